using PredictionApi.Imaging;

namespace PredictionApi.Predictions;

/// <summary>An image to store with its prediction: the bytes as uploaded and what their header said.</summary>
public sealed record RecordedUpload(string FileName, ReadOnlyMemory<byte> Bytes, ImageHeader Header);
