namespace PredictionApi.Comparison;

/// <summary>One stored pair whose classes differ, in prediction_pairs' own a/b order, with both predictions' details.</summary>
public sealed record DisagreementRow(
    long InputId, DateTime CreatedAt, string? TrueLabel,
    long AId, string AVersion, int AClass, float AConfidence,
    long BId, string BVersion, int BClass, float BConfidence);
