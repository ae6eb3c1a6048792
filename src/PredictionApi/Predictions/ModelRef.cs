namespace PredictionApi.Predictions;

/// <summary>The model that made a prediction.</summary>
public sealed record ModelRef(string Name, string Version);
