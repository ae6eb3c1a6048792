using System.Text.Json.Nodes;
using PredictionApi.Training.Calibration;
using PredictionApi.Training.Data;
using PredictionApi.Training.Evaluation;
using PredictionApi.Training.Export;
using PredictionApi.Training.Network;

namespace PredictionApi.Training;

/// <summary>
/// <c>robustness</c>: how a model folder holds up on real input, through ONNX Runtime and the service's
/// preprocessing: accuracy per rendering of the validation digits (the split <c>train</c> holds out with the
/// same seed), calibration error on the test files, and how sure it is about images that are not digits.
/// </summary>
internal static class RobustnessCommand
{
    public static int Run(Arguments args)
    {
        var modelDir = args.Required("model");
        var recipe = ModelRecipe.For(args.Optional("dataset") ?? "mnist");
        var all = Dataset.Load(args.Required("images"), args.Required("labels"));
        var seed = args.Int("seed", 1);
        var validationCount = args.Int("validation", recipe.ValidationCount);
        var testImages = args.Optional("test-images");
        var testLabels = args.Optional("test-labels");
        var nonDigits = args.Optional("non-digits");
        // Records the table in the folder's model.json (metrics.robustness_validation and the unfamiliar threshold, or
        // metrics.product_photos_validation), as train does: after a change to the service's preprocessing, say.
        var updateManifest = args.Optional("update-manifest") is "true";
        args.RejectUnknown();

        using var ort = new OrtModel(File.ReadAllBytes(Path.Combine(modelDir, "model.onnx")), threads: 2);
        var (_, validation) = all.Split(validationCount, seed);
        var validationLogits = ort.Run(validation);
        Console.WriteLine($"validation ({validation.Count} images): accuracy {Evaluator.Accuracy(validationLogits, validation.Labels):P2}, " +
            $"ECE {CalibrationError.Expected(validationLogits, validation.Labels):P2}, temperature that would minimise its NLL {TemperatureScaling.Fit(validationLogits, validation.Labels)}");
        if (!recipe.DigitRobustness)
        {
            Console.WriteLine("product photos of the validation images, through the service's fashion preprocessing:");
            var photos = Robustness.EvaluateProductPhotos(ort, validation, seed);
            Robustness.Print(photos);
            if (updateManifest)
            {
                UpdateMetrics(modelDir, "product_photos_validation", metrics => metrics["product_photos_validation"] = Robustness.ToJson(photos));
            }

            if (testImages is not null && testLabels is not null) PrintTest(ort, testImages, testLabels);
            return 0;
        }

        Console.WriteLine("renderings of the validation digits:");
        var renderings = Robustness.Evaluate(ort, validation, seed);
        Robustness.Print(renderings);
        var unfamiliar = Robustness.UnfamiliarThreshold(renderings);
        Console.WriteLine($"1st percentile of the top probability over all renderings: {unfamiliar}");
        if (updateManifest)
        {
            UpdateMetrics(modelDir, "robustness_validation", metrics => Robustness.Record(metrics, renderings, unfamiliar));
        }

        if (testImages is not null && testLabels is not null) PrintTest(ort, testImages, testLabels);
        if (nonDigits is not null)
        {
            var images = Robustness.LoadNonDigits(nonDigits);
            var top = TopProbabilities.Of(ort.Run(images), ort.Classes, 1);
            Console.WriteLine($"non-digits ({images.Count} images) top probability: {TopProbabilities.Summarise(top)}; below {unfamiliar}: {Robustness.ShareBelow(top, unfamiliar):P1}");
        }
        return 0;
    }

    /// <summary>Rewrites the folder's model.json with <paramref name="record"/> applied to its metrics.</summary>
    private static void UpdateMetrics(string modelDir, string what, Action<JsonNode> record)
    {
        var path = Path.Combine(modelDir, "model.json");
        var manifest = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        record(manifest["metrics"]!);
        Manifest.Write(path, manifest);
        Console.WriteLine($"wrote metrics.{what} to {path}");
    }

    private static void PrintTest(OrtModel ort, string images, string labels)
    {
        var test = Dataset.Load(images, labels);
        var logits = ort.Run(test);
        Console.WriteLine($"test ({test.Count} images): accuracy {Evaluator.Accuracy(logits, test.Labels):P2}, ECE (15 bins) {CalibrationError.Expected(logits, test.Labels):P3}");
    }
}
