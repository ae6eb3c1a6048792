namespace PredictionApi.Predictions;

/// <summary>What PostgreSQL assigned to a stored input + prediction pair.</summary>
public sealed record StoredIds(long PredictionId, long InputId, DateTime CreatedAt);
