namespace PredictionApi.Predictions;

/// <summary>
/// An Idempotency-Key to claim in the transaction that stores a request's rows, with the hash of that
/// request and how to write its answer once the rows have ids.
/// </summary>
public sealed record IdempotencyClaim(string Key, byte[] RequestSha256, int Hours, Func<IReadOnlyList<StoredIds>, string> Answer);
