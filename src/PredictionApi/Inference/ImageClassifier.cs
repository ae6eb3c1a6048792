using System.Buffers;
using Microsoft.ML.OnnxRuntime;

namespace PredictionApi.Inference;

/// <summary>
/// One ONNX Runtime session for the served model, shared by all requests (InferenceSession.Run is
/// thread-safe). Each call runs a batch of one on caller-owned buffers and returns probabilities.
/// </summary>
public sealed class ImageClassifier : IDisposable
{
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly string[] _inputNames;
    private readonly string[] _outputNames;
    private readonly long[] _inputShape;
    private readonly long[] _outputShape;

    public ImageClassifier(ModelSpec spec, InferenceSession session)
    {
        Spec = spec;
        _session = session;
        _inputNames = [spec.Input.Name];
        _outputNames = [spec.Output.Name];
        _inputShape = spec.Input.Shape;
        _outputShape = [1, spec.Output.Classes];
    }

    public ModelSpec Spec { get; }

    /// <summary>
    /// Runs the model on <paramref name="input"/> (its first <see cref="Imaging.InputSpec.TensorLength"/>
    /// values) and writes one probability per class into <paramref name="probabilities"/>; returns the likely class.
    /// </summary>
    public int Classify(float[] input, Span<float> probabilities)
    {
        var classes = Spec.Output.Classes;
        var raw = ArrayPool<float>.Shared.Rent(classes);
        try
        {
            // Both tensors wrap pooled managed arrays, so a request allocates no tensor memory of its own.
            using (var inputValue = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, input.AsMemory(0, Spec.Input.TensorLength), _inputShape))
            using (var outputValue = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, raw.AsMemory(0, classes), _outputShape))
            {
                _session.Run(_runOptions, _inputNames, [inputValue], _outputNames, [outputValue]);
            }

            Probabilities.FromOutput(raw.AsSpan(0, classes), Spec.Output.Kind, probabilities[..classes]);
            return Probabilities.ArgMax(probabilities[..classes]);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(raw);
        }
    }

    public void Dispose()
    {
        _session.Dispose();
        _runOptions.Dispose();
    }
}
