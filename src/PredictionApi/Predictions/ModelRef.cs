namespace PredictionApi.Predictions;

public sealed record ModelRef(string Name, string Version);
