namespace PredictionApi.Predictions;

/// <summary>What a write did: the ids of the rows it committed, or the answer an earlier request with the same Idempotency-Key stored.</summary>
public sealed record RecordOutcome(IReadOnlyList<StoredIds> Stored, StoredAnswer? Replay);
