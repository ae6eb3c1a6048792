namespace PredictionApi.Predictions;

/// <summary>
/// The answer stored for an Idempotency-Key, a hash of the request that produced it, and the ids of the predictions it
/// names that were deleted since, comma-separated (empty when none): a delete does not know which keys name its rows.
/// </summary>
public sealed record StoredAnswer(byte[] RequestSha256, string Response, string Deleted);
