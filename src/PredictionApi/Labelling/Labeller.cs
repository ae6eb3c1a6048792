using System.Buffers;
using PredictionApi.Imaging;
using PredictionApi.Inference;
using PredictionApi.Predictions;

namespace PredictionApi.Labelling;

/// <summary>What the model said about one image.</summary>
public sealed record LabelledImage(ImageHeader Header, float[] Probabilities, int LikelyClass)
{
    public float Confidence => Probabilities[LikelyClass];

    public NewPrediction ToNewPrediction(ModelSpec spec) => new(spec.Name, spec.Version, Probabilities, LikelyClass, Confidence);
}

/// <summary>
/// Preprocesses and classifies one image with the served model, exactly as POST /prediction does;
/// shared by the batch endpoint and the label command. Thread-safe.
/// </summary>
public sealed class Labeller(ImagePreprocessor preprocessor, ImageClassifier classifier)
{
    public ModelSpec Spec => classifier.Spec;

    /// <summary>Labels <paramref name="bytes"/>; throws <see cref="ImageRejectedException"/> when they are not a usable image.</summary>
    public LabelledImage Label(ReadOnlySpan<byte> bytes)
    {
        var spec = classifier.Spec;
        var tensor = ArrayPool<float>.Shared.Rent(spec.Input.TensorLength);
        try
        {
            var header = preprocessor.Preprocess(bytes, spec.Input, tensor);
            var probabilities = new float[spec.Output.Classes];
            var likely = classifier.Classify(tensor, probabilities);
            return new LabelledImage(header, probabilities, likely);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(tensor);
        }
    }
}
