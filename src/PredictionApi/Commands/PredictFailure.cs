namespace PredictionApi.Commands;

public sealed record PredictFailure(string Name, string Reason);
