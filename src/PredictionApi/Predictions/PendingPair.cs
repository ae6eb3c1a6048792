namespace PredictionApi.Predictions;

/// <summary>An input row and its prediction row, ready to insert: the bytes already placed where the input store keeps them.</summary>
public sealed record PendingPair(
    string FileName, string ContentType, string? Data, byte[] Sha256, int ByteSize, int Width, int Height,
    string StorageKind, string? ObjectKey, NewPrediction Prediction)
{
    /// <summary>Roughly what the pair costs the database to write, for bounding a group.</summary>
    public long Bytes => (Data?.Length ?? 0) + FileName.Length + Prediction.Probabilities.Length * 12 + 256;
}
