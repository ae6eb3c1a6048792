namespace PredictionApi.Commands;

/// <summary>One image the predict command could not classify, and why.</summary>
public sealed record PredictFailure(string Name, string Reason);
