using PredictionApi.Imaging;

namespace PredictionApi.Predictions;

/// <summary>
/// An input to store with its prediction: the bytes as received, their content type and the width and height they
/// hold (an image's, from its header; a tensor's, from its shape).
/// </summary>
public sealed record RecordedUpload(string FileName, ReadOnlyMemory<byte> Bytes, string ContentType, int Width, int Height)
{
    /// <summary>An uploaded image, described by what its header said.</summary>
    public RecordedUpload(string fileName, ReadOnlyMemory<byte> bytes, ImageHeader header)
        : this(fileName, bytes, header.ContentType, header.Width, header.Height)
    {
    }
}
