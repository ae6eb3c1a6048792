namespace PredictionApi.Predictions;

/// <summary>Counts by true label (rows) and predicted label (columns), both indexed by <see cref="Labels"/>.</summary>
public sealed record ConfusionMatrix(IReadOnlyList<string> Labels, long[][] Counts);
