using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using PredictionApi.Training.Data;
using PredictionApi.Training.Export;
using PredictionApi.Training.Network;

namespace PredictionApi.Training;

/// <summary>
/// <c>train</c>: fits the network on the training files (minus a validation hold-out), exports model.onnx,
/// checks ONNX Runtime against the trainer's own forward pass, and writes model.json with the results.
/// The test files, when given, are only used for the final reported numbers.
/// </summary>
internal static class TrainCommand
{
    /// <summary>Largest accepted difference between ONNX Runtime's logits and the trainer's.</summary>
    public const float Tolerance = 1e-4f;

    public static int Run(Arguments args, string[] commandLine)
    {
        var imagesPath = args.Required("images");
        var labelsPath = args.Required("labels");
        var testImagesPath = args.Optional("test-images");
        var testLabelsPath = args.Optional("test-labels");
        var outDir = args.Required("out");
        var options = new TrainOptions
        {
            Seed = args.Int("seed", 1),
            Epochs = args.Int("epochs", 80),
            BatchSize = args.Int("batch", 64),
            LearningRate = args.Float("lr", 2e-3f),
            Threads = args.Int("threads", 2),
        };
        var validationCount = args.Int("validation", 1000);
        var limit = args.Int("limit", int.MaxValue);
        var version = args.Optional("model-version") ?? "1.0.0";
        args.RejectUnknown();
        if (options.Epochs < 1 || options.BatchSize < options.Threads || options.Threads < 1 || !(options.LearningRate > 0))
            throw new ArgumentException("Need --epochs >= 1, --threads >= 1, --batch >= --threads and --lr > 0.");
        if ((testImagesPath is null) != (testLabelsPath is null))
            throw new ArgumentException("Give both --test-images and --test-labels, or neither.");

        var all = Dataset.Load(imagesPath, labelsPath, limit);
        var (train, validation) = all.Split(validationCount, options.Seed);
        var test = testImagesPath is null ? null : Dataset.Load(testImagesPath, testLabelsPath!);
        var net = ConvNet.Mnist().Initialize(options.Seed);
        Console.WriteLine(net.Describe());
        Console.WriteLine($"{net.ParameterCount:N0} parameters, {net.MultiplyAdds:N0} multiply-adds per image");
        Console.WriteLine($"training on {train.Count} images, validating on {validation.Count}, {options.Epochs} epochs, seed {options.Seed}, {options.Threads} threads");

        var clock = Stopwatch.StartNew();
        var reports = new Trainer(net, options).Train(train, validation, r => Console.WriteLine(
            $"epoch {r.Epoch,3}  loss {r.Loss:F4}  train acc {r.TrainAccuracy:P2}  val acc {(r.ValidationAccuracy is { } v ? v.ToString("P2", CultureInfo.InvariantCulture) : "-")}  {r.Elapsed:mm\\:ss}"));
        var trainingSeconds = clock.Elapsed.TotalSeconds;

        var onnx = net.ToOnnx("mnist-convnet", version, "Handwritten digit classifier (MNIST), trained by PredictionApi.Training").ToBytes();
        Directory.CreateDirectory(outDir);
        File.WriteAllBytes(Path.Combine(outDir, "model.onnx"), onnx);

        // The exported graph must compute what was trained: compare logits image by image.
        var check = test ?? validation;
        using var ort = new OrtModel(onnx);
        var ortLogits = ort.Run(check);
        var ownLogits = Evaluator.Logits(net, check, options.Threads);
        var maxDiff = ortLogits.Zip(ownLogits, (a, b) => Math.Abs(a - b)).Max();
        Console.WriteLine($"ONNX Runtime vs trainer on {check.Count} images: max |logit difference| = {maxDiff:E2}");

        var metrics = new JsonObject
        {
            ["validation_accuracy"] = Round(reports[^1].ValidationAccuracy ?? float.NaN),
            ["validation_images"] = validation.Count,
            ["onnx_runtime_max_abs_diff"] = maxDiff,
            ["multiply_adds_per_image"] = net.MultiplyAdds,
            ["parameters"] = net.ParameterCount,
        };
        if (test is not null)
        {
            var accuracy = Evaluator.Accuracy(ortLogits, test.Labels);
            Console.WriteLine($"test accuracy (ONNX Runtime, {test.Count} images): {accuracy:P2}");
            metrics["test_accuracy"] = Round(accuracy);
            metrics["test_set"] = DataProvenance(testImagesPath!, testLabelsPath!, test.Count);
        }
        var training = new JsonObject
        {
            ["tool"] = "src/PredictionApi.Training",
            ["command"] = "dotnet run -c Release --project src/PredictionApi.Training -- " + string.Join(' ', commandLine),
            ["seed"] = options.Seed,
            ["epochs"] = options.Epochs,
            ["batch_size"] = options.BatchSize,
            ["optimizer"] = $"AdamW lr {options.LearningRate} (warm-up, cosine decay), weight decay {options.WeightDecay}, label smoothing {options.LabelSmoothing}",
            ["augmentation"] = new JsonObject
            {
                ["max_rotation_degrees"] = options.Augment.MaxRotationDegrees,
                ["max_scale"] = options.Augment.MaxScale,
                ["max_shear"] = options.Augment.MaxShear,
                ["max_shift_pixels"] = options.Augment.MaxShift,
                ["elastic_rms_pixels"] = options.Augment.ElasticAlpha,
                ["elastic_sigma"] = options.Augment.ElasticSigma,
            },
            ["data"] = DataProvenance(imagesPath, labelsPath, all.Count),
            ["training_images"] = train.Count,
            ["seconds"] = Math.Round(trainingSeconds, 1),
            ["threads"] = options.Threads,
            ["architecture"] = net.Describe().Replace(Environment.NewLine, "; "),
        };
        var manifest = Manifest.Create("mnist", version, "Handwritten digit classifier: a small ConvNet trained on MNIST digits.",
            onnx, all.Shape.Height, all.Shape.Width, Enumerable.Range(0, 10).Select(i => i.ToString(CultureInfo.InvariantCulture)), metrics, training);
        Manifest.Write(Path.Combine(outDir, "model.json"), manifest);
        Console.WriteLine($"wrote {Path.Combine(outDir, "model.onnx")} ({onnx.Length:N0} bytes) and model.json; training took {trainingSeconds:F0} s");

        if (maxDiff > Tolerance)
        {
            Console.Error.WriteLine($"error: exported model differs from the trainer by {maxDiff:E2} > {Tolerance:E0}");
            return 1;
        }
        return 0;
    }

    private static JsonObject DataProvenance(string images, string labels, int count) => new()
    {
        ["images"] = Path.GetFileName(images),
        ["labels"] = Path.GetFileName(labels),
        ["images_md5"] = Manifest.Md5(images),
        ["labels_md5"] = Manifest.Md5(labels),
        ["count"] = count,
    };

    private static double Round(float value) => Math.Round(value, 6);
}
