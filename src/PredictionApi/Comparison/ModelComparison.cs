namespace PredictionApi.Comparison;

/// <summary>
/// Answer to GET /models/compare. <see cref="Inputs"/> counts the inputs both sides classified (once per pair of
/// versions when a bare name covers several versions that each classified the input).
/// </summary>
public sealed record ModelComparison(
    ComparedModel Baseline,
    ComparedModel Candidate,
    DateTime? From,
    DateTime? To,
    long Inputs,
    long Agreed,
    double? AgreementRate,
    IReadOnlyList<ClassAgreement> Classes,
    AgreementMatrix Matrix,
    ComparisonAccuracy Accuracy,
    IReadOnlyList<Disagreement> Disagreements,
    string? NextCursor);
