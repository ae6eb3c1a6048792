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
        var all = Dataset.Load(args.Required("images"), args.Required("labels"));
        var seed = args.Int("seed", 1);
        var validationCount = args.Int("validation", 1000);
        var testImages = args.Optional("test-images");
        var testLabels = args.Optional("test-labels");
        var nonDigits = args.Optional("non-digits");
        args.RejectUnknown();

        using var ort = new OrtModel(File.ReadAllBytes(Path.Combine(modelDir, "model.onnx")), threads: 2);
        var (_, validation) = all.Split(validationCount, seed);
        var validationLogits = ort.Run(validation);
        Console.WriteLine($"validation ({validation.Count} images): accuracy {Evaluator.Accuracy(validationLogits, validation.Labels):P2}, " +
            $"ECE {CalibrationError.Expected(validationLogits, validation.Labels):P2}, temperature that would minimise its NLL {TemperatureScaling.Fit(validationLogits, validation.Labels)}");
        Console.WriteLine("renderings of the validation digits:");
        var renderings = Robustness.Evaluate(ort, validation, seed);
        Robustness.Print(renderings);
        var unfamiliar = Robustness.UnfamiliarThreshold(renderings);
        Console.WriteLine($"1st percentile of the top probability over all renderings: {unfamiliar}");
        if (testImages is not null && testLabels is not null)
        {
            var test = Dataset.Load(testImages, testLabels);
            var logits = ort.Run(test);
            Console.WriteLine($"test ({test.Count} images): accuracy {Evaluator.Accuracy(logits, test.Labels):P2}, ECE (15 bins) {CalibrationError.Expected(logits, test.Labels):P3}");
        }
        if (nonDigits is not null)
        {
            var images = Robustness.LoadNonDigits(nonDigits);
            var top = TopProbabilities.Of(ort.Run(images), ort.Classes, 1);
            Console.WriteLine($"non-digits ({images.Count} images) top probability: {TopProbabilities.Summarise(top)}; below {unfamiliar}: {Robustness.ShareBelow(top, unfamiliar):P1}");
        }
        return 0;
    }
}
