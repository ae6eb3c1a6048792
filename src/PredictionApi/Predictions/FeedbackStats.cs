namespace PredictionApi.Predictions;

/// <summary>How the predictions compare with the true labels recorded for them.</summary>
/// <param name="Accuracy">Correct / labeled; null when nothing is labeled.</param>
public sealed record FeedbackStats(long Labeled, long Correct, double? Accuracy, ConfusionMatrix? ConfusionMatrix);
