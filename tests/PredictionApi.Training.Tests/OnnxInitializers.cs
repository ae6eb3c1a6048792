using System.Runtime.InteropServices;

namespace PredictionApi.Training.Tests;

/// <summary>
/// Reads the float initializers (weights) back out of an ONNX file: just enough protobuf to walk
/// ModelProto.graph (7) -> GraphProto.initializer (5) -> TensorProto name (8) and raw_data (9), the fields our writer uses.
/// </summary>
internal static class OnnxInitializers
{
    public static Dictionary<string, float[]> Read(byte[] model)
    {
        var result = new Dictionary<string, float[]>(StringComparer.Ordinal);
        foreach (var (field, graph) in Fields(model))
        {
            if (field != 7) continue;
            foreach (var (graphField, tensor) in Fields(graph))
            {
                if (graphField != 5) continue;
                string? name = null;
                float[]? values = null;
                foreach (var (tensorField, data) in Fields(tensor))
                {
                    if (tensorField == 8) name = System.Text.Encoding.UTF8.GetString(data.Span);
                    if (tensorField == 9) values = MemoryMarshal.Cast<byte, float>(data.Span).ToArray();
                }
                if (name is not null && values is not null) result[name] = values;
            }
        }
        return result;
    }

    /// <summary>The length-delimited fields of one message; varint and fixed-width fields are skipped.</summary>
    private static IEnumerable<(int Field, ReadOnlyMemory<byte> Data)> Fields(ReadOnlyMemory<byte> message)
    {
        var position = 0;
        while (position < message.Length)
        {
            var key = Varint(message.Span, ref position);
            var (field, wire) = ((int)(key >> 3), (int)(key & 7));
            switch (wire)
            {
                case 0: Varint(message.Span, ref position); break;
                case 1: position += 8; break;
                case 5: position += 4; break;
                case 2:
                    var length = (int)Varint(message.Span, ref position);
                    yield return (field, message.Slice(position, length));
                    position += length;
                    break;
                default: throw new InvalidDataException($"Unsupported protobuf wire type {wire}.");
            }
        }
    }

    private static ulong Varint(ReadOnlySpan<byte> data, ref int position)
    {
        ulong value = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = data[position++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80) return value;
        }
    }
}
