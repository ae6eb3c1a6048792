namespace PredictionApi.Predictions;

/// <summary>Answer to GET /predictions/stats.</summary>
public sealed record PredictionStats(
    string Model,
    DateTime? From,
    DateTime? To,
    long Total,
    double? MeanConfidence,
    IReadOnlyList<ClassStats> Classes,
    IReadOnlyList<ConfidenceBin> ConfidenceHistogram,
    FeedbackStats Feedback);
