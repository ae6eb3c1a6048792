namespace PredictionApi.Predictions;

/// <summary>Predictions of one predicted class.</summary>
public sealed record ClassStats(int Class, string Label, long Count, double? MeanConfidence);
