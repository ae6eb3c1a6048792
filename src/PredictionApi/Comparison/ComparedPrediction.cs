namespace PredictionApi.Comparison;

/// <summary>One side's prediction of a disagreement.</summary>
public sealed record ComparedPrediction(long PredictionId, string ModelVersion, int LikelyClass, string Label, float Confidence);
