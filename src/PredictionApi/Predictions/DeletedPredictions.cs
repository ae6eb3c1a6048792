namespace PredictionApi.Predictions;

/// <summary>The answer to DELETE /predictions: predictions deleted, and inputs deleted with them.</summary>
public sealed record DeletedPredictions(long Deleted, long InputsDeleted);
