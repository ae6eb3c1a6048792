using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using PredictionApi.Mnist;

namespace PredictionApi.Bench;

/// <summary>
/// Inferences per second of the model alone, with the session settings the service uses
/// (one intra-op thread per call): one caller at batch 1, one caller per core at batch 1,
/// and one caller at batch 64.
/// </summary>
internal static class OnnxThroughput
{
    public static int Run(string modelDir, string imagesPath, double seconds)
    {
        var images = IdxFile.ReadImages(imagesPath);
        using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1 };
        using var session = new InferenceSession(Path.Combine(modelDir, "model.onnx"), options);
        var inputName = session.InputMetadata.Keys.First();

        Report("batch 1, 1 caller", Measure(session, inputName, images, batch: 1, callers: 1, seconds));
        Report($"batch 1, {Environment.ProcessorCount} callers", Measure(session, inputName, images, 1, Environment.ProcessorCount, seconds));
        Report("batch 64, 1 caller", Measure(session, inputName, images, batch: 64, callers: 1, seconds));
        return 0;
    }

    private static void Report(string label, double imagesPerSecond) =>
        Console.WriteLine($"onnx {label}: {imagesPerSecond:F0} images/s ({1e6 / imagesPerSecond:F1} us/image)");

    private static double Measure(InferenceSession session, string inputName, IdxImages images, int batch, int callers, double seconds)
    {
        var pixels = images.PixelsPerImage;
        var counts = new long[callers];
        var stopwatch = Stopwatch.StartNew();
        var deadline = TimeSpan.FromSeconds(seconds);
        Parallel.For(0, callers, new ParallelOptions { MaxDegreeOfParallelism = callers }, caller =>
        {
            var buffer = new float[batch * pixels];
            var next = caller * 997;
            while (stopwatch.Elapsed < deadline)
            {
                for (var b = 0; b < batch; b++, next++)
                {
                    var image = images.Image(next % images.Count);
                    for (var p = 0; p < pixels; p++) buffer[b * pixels + p] = image[p] / 255f;
                }
                var tensor = new DenseTensor<float>(buffer, [batch, 1, images.Rows, images.Columns]);
                using var results = session.Run([NamedOnnxValue.CreateFromTensor(inputName, tensor)]);
                counts[caller] += batch;
            }
        });
        return counts.Sum() / stopwatch.Elapsed.TotalSeconds;
    }
}
