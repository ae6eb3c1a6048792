using PredictionApi.Inference;

namespace PredictionApi.Predictions;

/// <summary>A prediction row to insert, for a new input or one already stored.</summary>
public sealed record NewPrediction(string ModelName, string ModelVersion, float[] Probabilities, int LikelyClass, float Confidence)
{
    /// <summary>The name of the API key that sent the input; null while the service is open, and for the predict command.</summary>
    public string? CreatedBy { get; init; }

    public static NewPrediction Of(ImagePrediction prediction, ModelSpec spec) =>
        new(spec.Name, spec.Version, prediction.Probabilities, prediction.LikelyClass, prediction.Confidence);

    public static NewPrediction Of(TensorPrediction prediction, ModelSpec spec) =>
        new(spec.Name, spec.Version, prediction.Probabilities, prediction.LikelyClass, prediction.Confidence);
}
