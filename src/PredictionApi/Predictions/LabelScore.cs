namespace PredictionApi.Predictions;

/// <summary>One class of a prediction: its name from the model's labels and its probability.</summary>
public sealed record LabelScore(string Name, float Confidence);
