using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using PredictionApi.Training.Data;

namespace PredictionApi.Training.Export;

/// <summary>An exported model loaded in ONNX Runtime on a fixed number of threads, run over whole data sets in batches.</summary>
internal sealed class OrtModel : IDisposable
{
    private readonly InferenceSession session;
    private readonly RunOptions runOptions = new();
    private readonly string inputName, outputName;

    public OrtModel(byte[] model, int threads = 1)
    {
        using var options = new SessionOptions
        {
            IntraOpNumThreads = threads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        session = new InferenceSession(model, options);
        inputName = session.InputNames[0];
        outputName = session.OutputNames[0];
        Classes = (int)session.OutputMetadata[outputName].Dimensions[^1];
    }

    public int Classes { get; }

    /// <summary>Logits (or whatever the output is) for every image, <c>Count x Classes</c>.</summary>
    public float[] Run(Dataset data, int batchSize = 64)
    {
        var result = new float[data.Count * Classes];
        for (var start = 0; start < data.Count; start += batchSize)
        {
            var n = Math.Min(batchSize, data.Count - start);
            RunBatch(data, start, n).CopyTo(result.AsSpan(start * Classes));
        }
        return result;
    }

    /// <summary>Wall-clock milliseconds per image over <paramref name="rounds"/> passes of full batches, after one warm-up pass.</summary>
    public double MillisecondsPerImage(Dataset data, int batchSize, int rounds)
    {
        var batches = data.Count / batchSize;
        for (var b = 0; b < batches; b++) RunBatch(data, b * batchSize, batchSize);
        var clock = Stopwatch.StartNew();
        for (var r = 0; r < rounds; r++)
        for (var b = 0; b < batches; b++) RunBatch(data, b * batchSize, batchSize);
        return clock.Elapsed.TotalMilliseconds / (rounds * batches * batchSize);
    }

    public void Dispose()
    {
        session.Dispose();
        runOptions.Dispose();
    }

    private float[] RunBatch(Dataset data, int start, int count)
    {
        var shape = data.Shape;
        var pixels = data.Pixels.AsSpan(start * shape.Size, count * shape.Size).ToArray();
        using var input = OrtValue.CreateTensorValueFromMemory(pixels, [count, shape.Channels, shape.Height, shape.Width]);
        using var outputs = session.Run(runOptions, [inputName], [input], [outputName]);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }
}
