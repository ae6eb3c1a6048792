namespace PredictionApi.Comparison;

/// <summary>How many inputs the baseline put in one class and the candidate in another, by true label (null: none).</summary>
public sealed record PairGroup(int BaselineClass, int CandidateClass, string? TrueLabel, long Count);
