namespace PredictionApi.Predictions;

/// <summary>A prediction a retention chunk deleted: its input, and its place in the walk (created_at, id) for the next chunk.</summary>
internal sealed record DeletedRow(long InputId, DateTime CreatedAt, long Id);
