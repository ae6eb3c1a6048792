using System.Buffers;
using System.Diagnostics;
using PredictionApi.Imaging;
using PredictionApi.Observability;

namespace PredictionApi.Inference;

/// <summary>
/// Preprocesses and classifies one image with the served model: the one path from bytes to
/// probabilities of POST /prediction, the batch endpoint and the predict command. Thread-safe.
/// </summary>
public sealed class ImagePredictor(ImagePreprocessor preprocessor, ImageClassifier classifier, ServiceMetrics metrics)
{
    public ModelSpec Spec => classifier.Spec;

    /// <summary>
    /// Runs the model on <paramref name="bytes"/>, keeping a copy of the tensor when <paramref name="keepTensor"/> is set;
    /// throws <see cref="ImageRejectedException"/> when they are not a usable image.
    /// </summary>
    public ImagePrediction Predict(ReadOnlySpan<byte> bytes, bool keepTensor = false)
    {
        var spec = classifier.Spec;
        var tensor = ArrayPool<float>.Shared.Rent(spec.Input.TensorLength);
        try
        {
            var started = Stopwatch.GetTimestamp();
            ImageHeader header;
            using (ServiceMetrics.Tracing.StartActivity("preprocess"))
            {
                header = preprocessor.Preprocess(bytes, spec.Input, tensor);
            }

            var preprocessed = Stopwatch.GetTimestamp();
            metrics.Preprocessing.Record(Stopwatch.GetElapsedTime(started, preprocessed).TotalSeconds);
            var probabilities = new float[spec.Output.Classes];
            int likely;
            using (ServiceMetrics.Tracing.StartActivity("infer"))
            {
                likely = classifier.Classify(tensor, probabilities);
            }

            metrics.Inference.Record(Stopwatch.GetElapsedTime(preprocessed).TotalSeconds);
            return new ImagePrediction(header, probabilities, likely) { Tensor = keepTensor ? tensor[..spec.Input.TensorLength] : null };
        }
        finally
        {
            ArrayPool<float>.Shared.Return(tensor);
        }
    }
}
