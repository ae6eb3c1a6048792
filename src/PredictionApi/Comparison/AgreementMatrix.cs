namespace PredictionApi.Comparison;

/// <summary>Counts[baseline class][candidate class]: how many inputs each pair of answers got.</summary>
public sealed record AgreementMatrix(IReadOnlyList<string> BaselineLabels, IReadOnlyList<string> CandidateLabels, long[][] Counts);
