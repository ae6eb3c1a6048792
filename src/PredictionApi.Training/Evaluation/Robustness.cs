using System.Text.Json.Nodes;
using PredictionApi.Imaging;
using PredictionApi.Mnist;
using PredictionApi.Training.Calibration;
using PredictionApi.Training.Data;
using PredictionApi.Training.Export;
using PredictionApi.Training.Network;
using PredictionApi.Training.Uploads;

namespace PredictionApi.Training.Evaluation;

/// <summary>Accuracy of one rendering, its calibration error with the model's own probabilities, and every image's top probability.</summary>
internal sealed record RenderingResult(Rendering Rendering, float Accuracy, double CalibrationError, float[] TopProbabilities);

/// <summary>
/// The evaluations that decide whether a model holds up on real input, all through ONNX Runtime and the
/// service's preprocessing: validation digits under every <see cref="Rendering"/>, and non-digit images.
/// </summary>
internal static class Robustness
{
    /// <summary>What the model receives for each digit of <paramref name="digits"/> presented as <paramref name="rendering"/>.</summary>
    public static Dataset Render(Dataset digits, Rendering rendering, int seed, int stream, PreprocessProfile profile = PreprocessProfile.Mnist)
    {
        if (rendering.Style is not { } style) return digits;
        var pixels = new float[digits.Pixels.Length];
        var size = digits.Shape.Size;
        Parallel.For(0, digits.Count, new ParallelOptions { MaxDegreeOfParallelism = 2 }, i =>
        {
            var rng = Rng.For(seed, stream, i);
            var upload = UploadRenderer.Render(digits.Image(i), style, ref rng);
            ServicePreprocessing.ToModelInput(upload, pixels.AsSpan(i * size, size), profile);
        });
        return new Dataset(digits.Count, digits.Shape, pixels, digits.Labels);
    }

    public static IReadOnlyList<RenderingResult> Evaluate(OrtModel model, Dataset validation, int seed) =>
        Evaluate(model, validation, seed, Rendering.All, PreprocessProfile.Mnist);

    /// <summary>Fashion-MNIST validation images as product photos, through the service's fashion profile.</summary>
    public static IReadOnlyList<RenderingResult> EvaluateProductPhotos(OrtModel model, Dataset validation, int seed) =>
        Evaluate(model, validation, seed, Rendering.ProductPhotos, PreprocessProfile.Fashion);

    private static IReadOnlyList<RenderingResult> Evaluate(OrtModel model, Dataset validation, int seed, IReadOnlyList<Rendering> renderings, PreprocessProfile profile)
    {
        var results = new List<RenderingResult>();
        for (var r = 0; r < renderings.Count; r++)
        {
            var rendered = Render(validation, renderings[r], seed, stream: 5000 + r, profile);
            var logits = model.Run(rendered);
            results.Add(new RenderingResult(renderings[r], Evaluator.Accuracy(logits, rendered.Labels), CalibrationError.Expected(logits, rendered.Labels),
                Calibration.TopProbabilities.Of(logits, model.Classes, 1)));
        }
        return results;
    }

    /// <summary>
    /// The top probability below which an input is unlike the digits the model knows: the 1st percentile over all
    /// renderings of the validation digits (so about 1 % of real-looking digits are flagged), rounded down to 0.01.
    /// </summary>
    public static float UnfamiliarThreshold(IEnumerable<RenderingResult> results)
    {
        var pooled = results.SelectMany(r => r.TopProbabilities).Order().ToArray();
        return MathF.Floor(pooled[pooled.Length / 100] * 100) / 100;
    }

    public static double ShareBelow(float[] top, float threshold) => Math.Round(top.Count(t => t < threshold) / (double)top.Length, 4);

    /// <summary>Records the digit renderings' table and the unfamiliar threshold in a manifest's metrics.</summary>
    public static void Record(JsonNode metrics, IReadOnlyList<RenderingResult> renderings, float unfamiliar)
    {
        metrics["robustness_validation"] = ToJson(renderings);
        metrics["unfamiliar_below_top_probability"] = unfamiliar;
        metrics["unfamiliar_share_of_validation_renderings"] = ShareBelow([.. renderings.SelectMany(r => r.TopProbabilities)], unfamiliar);
    }

    /// <summary>Images that are not digits (an IDX file), each prepared as the service prepares a PNG of it.</summary>
    public static Dataset LoadNonDigits(string path, int limit = int.MaxValue)
    {
        var images = IdxFile.ReadImages(path);
        var count = Math.Min(limit, images.Count);
        var size = images.PixelsPerImage;
        var pixels = new float[count * size];
        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = 2 }, i =>
        {
            var image = new GrayImage(images.Columns, images.Rows);
            var source = images.Pixels.AsSpan(i * size, size);
            for (var p = 0; p < size; p++) image.Pixels[p] = source[p];
            ServicePreprocessing.ToModelInput(image, pixels.AsSpan(i * size, size));
        });
        return new Dataset(count, new Shape(1, images.Rows, images.Columns), pixels, new byte[count]);
    }

    public static JsonObject ToJson(IEnumerable<RenderingResult> results) => new(results.Select(r =>
        KeyValuePair.Create(r.Rendering.Name, (JsonNode?)new JsonObject
        {
            ["accuracy"] = Math.Round(r.Accuracy, 4),
            ["ece"] = Math.Round(r.CalibrationError, 4),
            ["mean_top_probability"] = Math.Round(r.TopProbabilities.Average(), 4),
            ["rendering"] = r.Rendering.Description,
        })));

    public static JsonObject ToJson(TopProbabilities top) => new()
    {
        ["mean"] = top.Mean,
        ["median"] = top.Median,
        ["p10"] = top.P10,
        ["p90"] = top.P90,
        ["share_above_0.9"] = top.Above09,
        ["share_above_0.99"] = top.Above099,
    };

    public static void Print(IEnumerable<RenderingResult> results)
    {
        foreach (var r in results) Console.WriteLine($"  {r.Rendering.Name,-20} accuracy {r.Accuracy:P2}  ECE {r.CalibrationError:P2}  mean top probability {r.TopProbabilities.Average():F3}");
    }
}
