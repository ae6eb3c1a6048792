namespace PredictionApi.Comparison;

/// <summary>An input the two sides classified differently; <see cref="ImageUrl"/> serves its bytes.</summary>
public sealed record Disagreement(long InputId, DateTime CreatedAt, string? TrueLabel, ComparedPrediction Baseline, ComparedPrediction Candidate, string ImageUrl);
