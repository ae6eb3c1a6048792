namespace PredictionApi.Predictions;

/// <summary>Predictions whose confidence is at least <see cref="Min"/> and below <see cref="Max"/> (the last bin includes 1).</summary>
public sealed record ConfidenceBin(double Min, double Max, long Count);
