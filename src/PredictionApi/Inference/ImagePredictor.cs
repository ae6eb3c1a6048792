using System.Buffers;
using System.Diagnostics;
using PredictionApi.Imaging;
using PredictionApi.Observability;

namespace PredictionApi.Inference;

/// <summary>
/// Preprocesses and classifies one image with the served model: the one path from bytes to
/// probabilities of POST /prediction, the batch endpoint, the predict command and the Open Inference
/// Protocol's image inputs; and the path from tensors to probabilities of its tensor inputs. Thread-safe.
/// </summary>
public sealed class ImagePredictor(ImagePreprocessor preprocessor, ImageClassifier classifier, ServiceMetrics metrics)
{
    public ModelSpec Spec => classifier.Spec;

    /// <summary>
    /// Runs the model on <paramref name="bytes"/>, keeping a copy of the tensor when <paramref name="keepTensor"/> is set;
    /// throws <see cref="ImageRejectedException"/> when they are not a usable image, or the model's output for it is unusable.
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
                try
                {
                    likely = classifier.Classify(tensor, probabilities);
                }
                catch (UnusableOutputException e)
                {
                    // The model's answer for this image only: every caller (an upload, a batch item, a shadow) refuses it as it
                    // refuses an image it cannot read, and stores nothing.
                    throw new ImageRejectedException(StatusCodes.Status422UnprocessableEntity, "Unusable model output",
                        $"The model '{spec.Name}' gave an output for this image that cannot be read as probabilities: {e.Message} Nothing was stored.");
                }
            }

            metrics.Inference.Record(Stopwatch.GetElapsedTime(preprocessed).TotalSeconds);
            return new ImagePrediction(header, probabilities, likely) { Tensor = keepTensor ? tensor[..spec.Input.TensorLength] : null };
        }
        finally
        {
            ArrayPool<float>.Shared.Return(tensor);
        }
    }

    /// <summary>
    /// <see cref="Predict"/> for a request: a large image is decoded on a thread of its own, not the pool's, once it has a
    /// turn (one per core, waited for without a thread). The pool keeps about one thread per core, and a decode holding
    /// one for a second left liveness probes and refusals waiting for the pool to notice and add a thread. An ordinary
    /// image is classified at once on the caller's thread.
    /// </summary>
    public async ValueTask<ImagePrediction> PredictAsync(ReadOnlyMemory<byte> bytes, bool keepTensor = false)
    {
        if (!preprocessor.IsLarge(bytes.Span))
        {
            return Predict(bytes.Span, keepTensor);
        }

        await preprocessor.Budget.TakeLargeTurnAsync();
        try
        {
            return await Task.Factory.StartNew(() => Predict(bytes.Span, keepTensor), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        }
        finally
        {
            preprocessor.Budget.EndLargeTurn();
        }
    }

    /// <summary>
    /// Classifies <paramref name="count"/> tensors already shaped for the model, laid end to end in <paramref name="tensors"/>,
    /// in one run with a batch dimension of <paramref name="count"/> (no preprocessing: they are the model's input as given).
    /// </summary>
    public TensorPrediction[] PredictTensors(float[] tensors, int count)
    {
        var classes = classifier.Spec.Output.Classes;
        var probabilities = new float[count * classes];
        var likely = new int[count];
        var started = Stopwatch.GetTimestamp();
        using (ServiceMetrics.Tracing.StartActivity("infer"))
        {
            classifier.ClassifyBatch(tensors, count, probabilities, likely);
        }

        // One observation per run, as for an upload; a batch's run is one call of the session.
        metrics.Inference.Record(Stopwatch.GetElapsedTime(started).TotalSeconds);
        return Enumerable.Range(0, count).Select(i => new TensorPrediction(probabilities[(i * classes)..((i + 1) * classes)], likely[i])).ToArray();
    }
}
