namespace PredictionApi.Predictions;

/// <summary>Why one file of a batch was not classified, in the shape of problem details.</summary>
public sealed record BatchError(int Status, string Title, string Detail);
