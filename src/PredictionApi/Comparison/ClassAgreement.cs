namespace PredictionApi.Comparison;

/// <summary>The inputs the baseline put in one class, and how many of them the candidate put there too.</summary>
public sealed record ClassAgreement(int Class, string Label, long Inputs, long Agreed, double? AgreementRate);
