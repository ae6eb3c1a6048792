namespace PredictionApi.Predictions;

/// <summary>The answer stored for an Idempotency-Key and a hash of the request that produced it.</summary>
public sealed record StoredAnswer(byte[] RequestSha256, string Response);
