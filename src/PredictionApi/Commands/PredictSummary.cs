namespace PredictionApi.Commands;

public sealed record PredictSummary(int Total, int Predicted, int Skipped, int Ignored, IReadOnlyList<PredictFailure> Failures, IReadOnlyDictionary<int, int> PerClass, TimeSpan Elapsed);
