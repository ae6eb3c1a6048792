using System.Buffers;
using PredictionApi.Imaging;
using PredictionApi.Inference;

namespace PredictionApi.Predictions;

/// <summary>What the model said about one image.</summary>
public sealed record LabelledImage(ImageHeader Header, float[] Probabilities, int LikelyClass)
{
    public float Confidence => Probabilities[LikelyClass];

    /// <summary>The input tensor exactly as the model received it, when it was asked for.</summary>
    public float[]? Tensor { get; init; }

    public NewPrediction ToNewPrediction(ModelSpec spec) => new(spec.Name, spec.Version, Probabilities, LikelyClass, Confidence);
}
