namespace PredictionApi.Comparison;

/// <summary>
/// Both sides on the compared inputs that carry a true label. A side is correct when its class's label equals the
/// true label; a label its model does not have is simply wrong.
/// </summary>
public sealed record ComparisonAccuracy(long Labeled, long BaselineCorrect, double? BaselineAccuracy, long CandidateCorrect, double? CandidateAccuracy);
