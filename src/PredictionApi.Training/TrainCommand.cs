using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using PredictionApi.Training.Calibration;
using PredictionApi.Training.Data;
using PredictionApi.Training.Evaluation;
using PredictionApi.Training.Export;
using PredictionApi.Training.Network;

namespace PredictionApi.Training;

/// <summary>
/// <c>train</c>: fits the network on the training files (minus a validation hold-out), fits a temperature on the
/// validation split, exports model.onnx with it, checks ONNX Runtime against the trainer's own forward pass, and
/// writes model.json with the results. The test files and the non-digit images, when given, are only used for the
/// final reported numbers; every choice is made on the validation split.
/// </summary>
internal static class TrainCommand
{
    /// <summary>Largest accepted difference between ONNX Runtime's logits and the trainer's.</summary>
    public const float Tolerance = 1e-4f;

    public static int Run(Arguments args, string[] commandLine)
    {
        var wallClock = Stopwatch.StartNew();
        var recipe = ModelRecipe.For(args.Optional("dataset") ?? "mnist");
        // --data-dir names a folder with the four files under their usual IDX names; --images etc. override it.
        var dataDir = args.Optional("data-dir");
        string? InData(string file) => dataDir is null ? null : Path.Combine(dataDir, file);
        var imagesPath = args.Optional("images") ?? InData("train-images-idx3-ubyte.gz") ?? throw new ArgumentException("Missing required option --images (or --data-dir).");
        var labelsPath = args.Optional("labels") ?? InData("train-labels-idx1-ubyte.gz") ?? throw new ArgumentException("Missing required option --labels (or --data-dir).");
        var testImagesPath = args.Optional("test-images") ?? InData("t10k-images-idx3-ubyte.gz");
        var testLabelsPath = args.Optional("test-labels") ?? InData("t10k-labels-idx1-ubyte.gz");
        var outDir = args.Required("out");
        var defaults = recipe.Options;
        var options = defaults with
        {
            Seed = args.Int("seed", defaults.Seed),
            Epochs = args.Int("epochs", defaults.Epochs),
            BatchSize = args.Int("batch", defaults.BatchSize),
            LearningRate = args.Float("lr", defaults.LearningRate),
            Threads = args.Int("threads", defaults.Threads),
        };
        options = options with
        {
            LabelSmoothing = args.Float("label-smoothing", options.LabelSmoothing),
            NonDigitShare = args.Float("non-digit-share", options.NonDigitShare),
            Augment = options.Augment with
            {
                UploadShare = args.Float("upload-share", options.Augment.UploadShare),
                FlipShare = args.Float("flip-share", options.Augment.FlipShare),
                MaxShift = args.Float("max-shift", options.Augment.MaxShift),
            },
        };
        var validationCount = args.Int("validation", recipe.ValidationCount);
        var limit = args.Int("limit", int.MaxValue);
        var version = args.Optional("model-version") ?? recipe.Version;
        var nonDigitsPath = args.Optional("non-digits");
        args.RejectUnknown();
        if (options.Epochs < 1 || options.BatchSize < options.Threads || options.Threads < 1 || !(options.LearningRate > 0))
            throw new ArgumentException("Need --epochs >= 1, --threads >= 1, --batch >= --threads and --lr > 0.");
        if ((testImagesPath is null) != (testLabelsPath is null))
            throw new ArgumentException("Give both --test-images and --test-labels, or neither.");
        if (nonDigitsPath is not null && !recipe.DigitRobustness)
            throw new ArgumentException($"--non-digits measures a digit model; --dataset {recipe.Name} is not one.");

        var all = Dataset.Load(imagesPath, labelsPath, limit);
        var (train, validation) = all.Split(validationCount, options.Seed);
        var test = testImagesPath is null ? null : Dataset.Load(testImagesPath, testLabelsPath!);
        var net = recipe.Network().Initialize(options.Seed);
        Console.WriteLine(net.Describe());
        Console.WriteLine($"{net.ParameterCount:N0} parameters, {net.MultiplyAdds:N0} multiply-adds per image");
        Console.WriteLine($"{recipe.Name}: training on {train.Count} images, validating on {validation.Count}, {options.Epochs} epochs, seed {options.Seed}, {options.Threads} threads");

        var clock = Stopwatch.StartNew();
        var reports = new Trainer(net, options).Train(train, validation, r => Console.WriteLine(
            $"epoch {r.Epoch,3}  loss {r.Loss:F4}  train acc {r.TrainAccuracy:P2}  val acc {(r.ValidationAccuracy is { } v ? v.ToString("P2", CultureInfo.InvariantCulture) : "-")}  {r.Elapsed:mm\\:ss}"));
        var trainingSeconds = clock.Elapsed.TotalSeconds;

        // Calibration: one temperature, fitted on the validation split's negative log-likelihood.
        var validationLogits = Evaluator.Logits(net, validation, options.Threads);
        var temperature = TemperatureScaling.Fit(validationLogits, validation.Labels);
        var nllBefore = TemperatureScaling.NegativeLogLikelihood(validationLogits, validation.Labels, 1);
        var nllAfter = TemperatureScaling.NegativeLogLikelihood(validationLogits, validation.Labels, temperature);
        Console.WriteLine($"temperature {temperature}: validation NLL {nllBefore:F4} -> {nllAfter:F4}");

        var onnx = net.ToOnnx($"{recipe.Name}-convnet", version, recipe.GraphDescription, temperature).ToBytes();
        Directory.CreateDirectory(outDir);
        File.WriteAllBytes(Path.Combine(outDir, "model.onnx"), onnx);

        // The exported graph must compute what was trained: compare logits image by image.
        var check = test ?? validation;
        using var ort = new OrtModel(onnx);
        var ortLogits = ort.Run(check);
        var ownLogits = Evaluator.Logits(net, check, options.Threads);
        var maxDiff = ortLogits.Zip(ownLogits, (a, b) => Math.Abs(a - b / temperature)).Max();
        Console.WriteLine($"ONNX Runtime vs trainer on {check.Count} images: max |logit difference| = {maxDiff:E2}");

        var metrics = new JsonObject
        {
            ["validation_accuracy"] = Round(reports[^1].ValidationAccuracy ?? float.NaN),
            ["validation_images"] = validation.Count,
            ["onnx_runtime_max_abs_diff"] = maxDiff,
            ["multiply_adds_per_image"] = net.MultiplyAdds,
            ["parameters"] = net.ParameterCount,
            ["temperature"] = temperature,
            ["validation_nll_before_calibration"] = Math.Round(nllBefore, 5),
            ["validation_nll_after_calibration"] = Math.Round(nllAfter, 5),
        };
        if (test is not null)
        {
            var accuracy = Evaluator.Accuracy(ortLogits, test.Labels);
            Console.WriteLine($"test accuracy (ONNX Runtime, {test.Count} images): {accuracy:P2}");
            metrics["test_accuracy"] = Round(accuracy);
            var eceBefore = CalibrationError.Expected(ownLogits, test.Labels);
            var eceAfter = CalibrationError.Expected(ortLogits, test.Labels);
            Console.WriteLine($"test expected calibration error (15 bins): {eceBefore:P3} before, {eceAfter:P3} after calibration");
            metrics["test_ece_15_bins_before_calibration"] = Math.Round(eceBefore, 5);
            metrics["test_ece_15_bins_after_calibration"] = Math.Round(eceAfter, 5);
            metrics["test_set"] = DataProvenance(testImagesPath!, testLabelsPath!, test.Count);
        }

        if (recipe.DigitRobustness)
        {
            Console.WriteLine("robustness (validation digits, rendered as uploads, through the service's preprocessing):");
            var robustness = Robustness.Evaluate(ort, validation, options.Seed);
            Robustness.Print(robustness);
            var unfamiliar = Robustness.UnfamiliarThreshold(robustness);
            Robustness.Record(metrics, robustness, unfamiliar);
            if (nonDigitsPath is not null) metrics["non_digit_top_probability"] = NonDigitSummary(ort, nonDigitsPath, temperature, unfamiliar);
        }
        else
        {
            Console.WriteLine("product photos (validation images drawn dark on a light background, through the service's fashion preprocessing):");
            var photos = Robustness.EvaluateProductPhotos(ort, validation, options.Seed);
            Robustness.Print(photos);
            metrics["product_photos_validation"] = Robustness.ToJson(photos);
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
                ["upload_share"] = options.Augment.UploadShare,
                [recipe.DigitRobustness ? "uploads" : "summary"] = recipe.AugmentationSummary,
            },
            ["non_digit_share"] = options.NonDigitShare,
            ["calibration"] = $"temperature {temperature}, fitted on the validation split's NLL, applied in the graph (Div node before the logits output)",
            ["data"] = DataProvenance(imagesPath, labelsPath, all.Count),
            ["training_images"] = train.Count,
            ["seconds"] = Math.Round(trainingSeconds, 1),
            ["wall_seconds"] = Math.Round(wallClock.Elapsed.TotalSeconds, 1),
            ["threads"] = options.Threads,
            ["architecture"] = net.Describe().Replace(Environment.NewLine, "; "),
        };
        if (options.Augment.FlipShare > 0) training["augmentation"]!["flip_share"] = options.Augment.FlipShare;
        if (options.Augment.WholePixelShifts) training["augmentation"]!["whole_pixel_shifts"] = true;
        var manifest = Manifest.Create(recipe.Name, version, recipe.Description, onnx, all.Shape.Height, all.Shape.Width, recipe.Profile, recipe.Labels, metrics, training);
        Manifest.Write(Path.Combine(outDir, "model.json"), manifest);
        Console.WriteLine($"wrote {Path.Combine(outDir, "model.onnx")} ({onnx.Length:N0} bytes) and model.json; training took {trainingSeconds:F0} s");

        if (maxDiff > Tolerance)
        {
            Console.Error.WriteLine($"error: exported model differs from the trainer by {maxDiff:E2} > {Tolerance:E0}");
            return 1;
        }
        return 0;
    }

    private static JsonObject NonDigitSummary(OrtModel ort, string nonDigitsPath, float temperature, float unfamiliar)
    {
        var images = Robustness.LoadNonDigits(nonDigitsPath);
        var ortNonDigits = ort.Run(images);
        var top = TopProbabilities.Of(ortNonDigits, ort.Classes, 1);
        var summary = TopProbabilities.Summarise(top);
        // ONNX Runtime's logits are already divided by T: multiplying by it again gives the raw network's view.
        var uncalibrated = TopProbabilities.Summarise(TopProbabilities.Of(ortNonDigits, ort.Classes, 1 / temperature));
        Console.WriteLine($"non-digits ({images.Count}) top probability: {summary}; before calibration {uncalibrated}");
        Console.WriteLine($"unfamiliar below top probability {unfamiliar}: {Robustness.ShareBelow(top, unfamiliar):P1} of non-digits flagged");
        var json = Robustness.ToJson(summary);
        json["share_below_unfamiliar_threshold"] = Robustness.ShareBelow(top, unfamiliar);
        json["images"] = $"{Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(nonDigitsPath)))}/{Path.GetFileName(nonDigitsPath)} ({images.Count}, md5 {Manifest.Md5(nonDigitsPath)}), evaluation only";
        return json;
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
