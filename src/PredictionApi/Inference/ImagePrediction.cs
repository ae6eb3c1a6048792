using PredictionApi.Imaging;

namespace PredictionApi.Inference;

public sealed record ImagePrediction(ImageHeader Header, float[] Probabilities, int LikelyClass)
{
    public float Confidence => Probabilities[LikelyClass];

    /// <summary>The input tensor exactly as the model received it, when it was asked for.</summary>
    public float[]? Tensor { get; init; }
}
