using System.Buffers;
using Microsoft.ML.OnnxRuntime;

namespace PredictionApi.Inference;

/// <summary>
/// One ONNX Runtime session for the served model, shared by all requests (InferenceSession.Run is
/// thread-safe). A call runs a batch of one (uploads) or of several tensors (the Open Inference Protocol) on
/// caller-owned buffers and returns probabilities.
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
        _inputShape = spec.ModelInputShape;
        _outputShape = [1, spec.Output.Classes];
    }

    /// <summary>The model's description; with output.kind omitted, its kind as <see cref="DecideOutputKind"/> decided it.</summary>
    public ModelSpec Spec { get; private set; }

    /// <summary>
    /// With output.kind omitted, decides once, before the model serves, whether its output already is probabilities:
    /// only if its rows for two probe inputs (all zeros, and a ramp) both are distributions. Deciding per row instead
    /// would read a logits row that happens to lie in 0..1 and sum to 1 (common with two or three classes) as
    /// probabilities, while the same model's other rows go through softmax.
    /// </summary>
    public void DecideOutputKind()
    {
        if (Spec.Output.Kind != OutputKind.Auto)
        {
            return;
        }

        var length = Spec.Input.TensorLength;
        var ramp = new float[length];
        for (var i = 0; i < length; i++)
        {
            ramp[i] = i % 256 / 255f;
        }

        var raw = new float[Spec.Output.Classes];
        var distributions = true;
        foreach (var probe in new[] { new float[length], ramp })
        {
            RunRaw(probe, 1, raw);
            distributions &= Probabilities.IsDistribution(raw);
        }

        Spec = Spec with { Output = Spec.Output with { Kind = distributions ? OutputKind.Probabilities : OutputKind.Logits } };
    }

    /// <summary>
    /// Runs the model on <paramref name="input"/> (its first <see cref="Imaging.InputSpec.TensorLength"/>
    /// values) and writes one probability per class into <paramref name="probabilities"/>; returns the likely class.
    /// </summary>
    public int Classify(float[] input, Span<float> probabilities)
    {
        Span<int> likely = stackalloc int[1];
        Run(input, 1, probabilities, likely);
        return likely[0];
    }

    /// <summary>
    /// Runs the model once on <paramref name="count"/> inputs laid end to end at the start of <paramref name="inputs"/>
    /// (a batch dimension of <paramref name="count"/>, which the model must allow), writes each one's probabilities row
    /// after row into <paramref name="probabilities"/> and its likely class into <paramref name="likely"/>.
    /// </summary>
    public void ClassifyBatch(float[] inputs, int count, Span<float> probabilities, Span<int> likely)
    {
        if (count < 1 || inputs.Length < count * Spec.Input.TensorLength)
        {
            throw new ArgumentException($"{inputs.Length} values do not hold {count} inputs of {Spec.Input.TensorLength}.", nameof(inputs));
        }

        Run(inputs, count, probabilities, likely);
    }

    private void Run(float[] inputs, int count, Span<float> probabilities, Span<int> likely)
    {
        var classes = Spec.Output.Classes;
        var raw = ArrayPool<float>.Shared.Rent(classes * count);
        try
        {
            RunRaw(inputs, count, raw);
            for (var i = 0; i < count; i++)
            {
                var row = probabilities.Slice(i * classes, classes);
                Probabilities.FromOutput(raw.AsSpan(i * classes, classes), Spec.Output.Kind, row);
                likely[i] = Probabilities.ArgMax(row);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(raw);
        }
    }

    /// <summary>Runs the session on <paramref name="count"/> inputs, writing the model's own output rows into <paramref name="raw"/>.</summary>
    private void RunRaw(float[] inputs, int count, float[] raw)
    {
        var classes = Spec.Output.Classes;
        long[] inputShape = count == 1 ? _inputShape : [count, .. _inputShape[1..]];
        long[] outputShape = count == 1 ? _outputShape : [count, classes];
        // Both tensors wrap managed memory (pooled for the output), so a request allocates no tensor memory of its own.
        using var inputValue = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, inputs.AsMemory(0, Spec.Input.TensorLength * count), inputShape);
        using var outputValue = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, raw.AsMemory(0, classes * count), outputShape);
        _session.Run(_runOptions, _inputNames, [inputValue], _outputNames, [outputValue]);
    }

    public void Dispose()
    {
        _session.Dispose();
        _runOptions.Dispose();
    }
}
