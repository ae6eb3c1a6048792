namespace PredictionApi.Inference;

/// <summary>The model's answer for one input tensor given as it is, without an image behind it.</summary>
public sealed record TensorPrediction(float[] Probabilities, int LikelyClass)
{
    public float Confidence => Probabilities[LikelyClass];
}
