namespace PredictionApi.Predictions;

/// <summary>One page of GET /predictions, newest first; pass <see cref="NextCursor"/> back as ?cursor= for the next.</summary>
public sealed record PredictionPage(IReadOnlyList<StoredPrediction> Items, string? NextCursor);
