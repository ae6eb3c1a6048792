namespace PredictionApi.Predictions;

/// <summary>One group of the statistics: predictions sharing a predicted class, a confidence bin and a true label.</summary>
public sealed record StatsGroup(int LikelyClass, int Bin, string? TrueLabel, long Count, double ConfidenceSum);
