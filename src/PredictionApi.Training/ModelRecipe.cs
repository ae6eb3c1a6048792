using System.Globalization;
using PredictionApi.Training.Data;
using PredictionApi.Training.Network;

namespace PredictionApi.Training;

/// <summary>
/// What <c>train --dataset NAME</c> builds: the network, the training defaults and what goes into model.json.
/// Command-line options override the defaults; everything else about a model lives here.
/// </summary>
internal sealed record ModelRecipe
{
    public required string Name { get; init; }
    public required string Version { get; init; }
    public required string Description { get; init; }
    public required string GraphDescription { get; init; }

    /// <summary>The service's preprocessing profile named in model.json (<c>input.profile</c>).</summary>
    public required string Profile { get; init; }

    public required IReadOnlyList<string> Labels { get; init; }
    public required Func<ConvNet> Network { get; init; }
    public required TrainOptions Options { get; init; }
    public required int ValidationCount { get; init; }

    /// <summary>What the augmentation does, in words, for model.json.</summary>
    public required string AugmentationSummary { get; init; }

    /// <summary>Digit models are also measured on simulated uploads and non-digits (see <c>Evaluation/Robustness.cs</c>).</summary>
    public bool DigitRobustness { get; init; }

    public static IReadOnlyList<string> Names => ["mnist", "fashion"];

    public static ModelRecipe For(string name) => name switch
    {
        "mnist" => Mnist,
        "fashion" => Fashion,
        _ => throw new ArgumentException($"Unknown --dataset '{name}'; known: {string.Join(", ", Names)}."),
    };

    /// <summary>The default digit classifier, as models/mnist 2.0.0 was trained.</summary>
    public static ModelRecipe Mnist { get; } = new()
    {
        Name = "mnist",
        Version = "2.0.0",
        Description = "Handwritten digit classifier: a small ConvNet trained on MNIST digits and simulated uploads, with calibrated probabilities.",
        GraphDescription = "Handwritten digit classifier (MNIST), trained by PredictionApi.Training",
        Profile = "mnist",
        Labels = [.. Enumerable.Range(0, 10).Select(i => i.ToString(CultureInfo.InvariantCulture))],
        Network = () => ConvNet.Mnist(),
        Options = new TrainOptions(),
        ValidationCount = 1000,
        AugmentationSummary = "Data/RandomUploads.cs: stroke width, gaps, aspect, resolution (digit 6 to 50 px tall, some reduced and enlarged again), blur, paper and ink levels, uneven light, grain, noise, two-level scans, placement; then the service's mnist preprocessing",
        DigitRobustness = true,
    };

    /// <summary>
    /// Clothing (Fashion-MNIST): product photos light on dark, the object filling the 28x28 frame. Mirrored
    /// clothes are still the same clothes, and small whole-pixel shifts stand in for imperfect cropping;
    /// rotation, shear and elastic warps would make things no camera produces, and there are no synthetic uploads.
    /// </summary>
    public static ModelRecipe Fashion { get; } = new()
    {
        Name = "fashion",
        Version = "1.0.0",
        Description = "Clothing classifier: a small ConvNet trained on Fashion-MNIST product images, with calibrated probabilities.",
        GraphDescription = "Clothing classifier (Fashion-MNIST), trained by PredictionApi.Training",
        Profile = "fashion",
        Labels = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"],
        Network = () => ConvNet.Fashion(),
        Options = new TrainOptions
        {
            Epochs = 20,
            LearningRate = 2e-3f,
            LabelSmoothing = 0.05f,
            NonDigitShare = 0,
            Augment = AugmentOptions.None with { MaxShift = 2, FlipShare = 0.5f, WholePixelShifts = true },
        },
        ValidationCount = 5000,
        AugmentationSummary = "horizontal flip of half the images, shift by whole pixels up to 2 in each direction; no rotation, shear, elastic field or simulated uploads",
    };
}
