using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using PredictionApi.Imaging;
using PredictionApi.Predictions;

namespace PredictionApi.OpenInference;

/// <summary>
/// How an FP32 input tensor is kept in <c>inputs</c>, one row per batch item: its float32 values, little-endian, row-major,
/// as the bytes of the input, under the content type <c>application/x-tensor;dtype=float32;shape=1x1x28x28</c> (the item's
/// shape in the model's layout). GET /prediction/{id}/image returns those bytes, so the tensor reads back bit for bit;
/// width and height are the tensor's.
/// </summary>
public static class StoredTensor
{
    public const string MediaType = "application/x-tensor";

    /// <summary>The content type of one item of <paramref name="spec"/>'s input (no spaces, so it also fits a data: URL).</summary>
    public static string ContentType(InputSpec spec) =>
        $"{MediaType};dtype=float32;shape={string.Join('x', spec.Shape.Select(d => d.ToString(CultureInfo.InvariantCulture)))}";

    /// <summary>The row to store for one item, <paramref name="values"/>.</summary>
    public static RecordedUpload Upload(string fileName, ReadOnlySpan<float> values, InputSpec spec) =>
        new(fileName, Bytes(values), ContentType(spec), spec.Width, spec.Height);

    /// <summary>The little-endian bytes of <paramref name="values"/>.</summary>
    public static byte[] Bytes(ReadOnlySpan<float> values)
    {
        var bytes = new byte[values.Length * sizeof(float)];
        if (BitConverter.IsLittleEndian)
        {
            MemoryMarshal.AsBytes(values).CopyTo(bytes);
        }
        else
        {
            for (var i = 0; i < values.Length; i++)
            {
                BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * sizeof(float)), values[i]);
            }
        }

        return bytes;
    }
}
