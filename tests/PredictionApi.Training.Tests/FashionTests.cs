using System.Security.Cryptography;
using System.Text.Json.Nodes;
using PredictionApi.Training.Data;
using PredictionApi.Training.Export;
using PredictionApi.Training.Network;

namespace PredictionApi.Training.Tests;

/// <summary>
/// The clothing model's code (network, augmentation, recipe) on small synthetic data, and the committed
/// models/fashion folder against the trainer's own forward pass. Nothing here reads the Fashion-MNIST files.
/// </summary>
public sealed class FashionTests
{
    [Fact]
    public void FashionNetworkHasTheDocumentedShapeAndCost()
    {
        var net = ConvNet.Fashion();
        // 26*26*32*9 + 11*11*64*288 + 1600*128 + 128*10
        Assert.Equal(2_631_040, net.MultiplyAdds);
        Assert.Equal(225_034, net.ParameterCount);
        Assert.Equal(new Shape(10, 1, 1), net.Output);
        Assert.Equal([32, 64], net.Layers.OfType<Conv2d>().Select(c => c.Output.Channels));
    }

    [Fact]
    public void NarrowFashionNetworkLearnsSyntheticShapesAndExportsExactly()
    {
        var (train, validation) = Shapes(1100, seed: 1).Split(100, seed: 1);
        var net = ConvNet.Fashion(conv1: 8, conv2: 16, hidden: 32).Initialize(3);
        var options = ModelRecipe.Fashion.Options with { Seed = 3, Epochs = 4, BatchSize = 32, LearningRate = 0.005f };

        var reports = new Trainer(net, options).Train(train, validation);

        Assert.True(reports[^1].ValidationAccuracy > 0.8f, $"validation accuracy {reports[^1].ValidationAccuracy}");
        using var ort = new OrtModel(net.ToOnnx("fashion-check", "test", temperature: 0.5f).ToBytes());
        var fromOrt = ort.Run(validation, batchSize: 32);
        var fromTrainer = Evaluator.Logits(net, validation, threads: 2);
        var maxDiff = fromOrt.Zip(fromTrainer, (a, b) => Math.Abs(a - b / 0.5f)).Max();
        Assert.True(maxDiff <= 1e-4f, $"max difference {maxDiff}");
    }

    [Fact]
    public void FlipMirrorsAndWholePixelShiftsMoveWithoutBlurring()
    {
        var source = Shapes(1, seed: 2).Image(0).ToArray();
        var flipOnly = new Augmenter(AugmentOptions.None with { FlipShare = 1 }, 28, 28);
        var output = new float[784];
        var rng = new Rng(5);
        flipOnly.Apply(source, output, ref rng);
        for (var y = 0; y < 28; y++)
        for (var x = 0; x < 28; x++) Assert.Equal(source[y * 28 + 27 - x], output[y * 28 + x]);

        var shifts = new Augmenter(AugmentOptions.None with { MaxShift = 2, WholePixelShifts = true, FlipShare = 0.5f }, 28, 28);
        var values = source.ToHashSet();
        values.Add(0);
        for (var i = 0; i < 20; i++)
        {
            rng = Rng.For(1, 2, i);
            shifts.Apply(source, output, ref rng);
            Assert.All(output, v => Assert.Contains(v, values)); // every pixel is a source pixel or the black ground
        }
    }

    [Fact]
    public void RecipesNameTheirLabelsProfileAndDefaults()
    {
        var fashion = ModelRecipe.For("fashion");
        Assert.Equal(["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"], fashion.Labels);
        Assert.Equal("fashion", fashion.Profile);
        Assert.Equal(fashion.Labels.Count, fashion.Network().Output.Size);
        Assert.Equal(0, fashion.Options.NonDigitShare);
        Assert.Equal(0, fashion.Options.Augment.UploadShare);
        // The digit model's defaults are what trained models/mnist 2.0.0.
        Assert.Equal(new TrainOptions(), ModelRecipe.For("mnist").Options);
        Assert.Equal("mnist", ModelRecipe.Mnist.Profile);
        Assert.Throws<ArgumentException>(() => ModelRecipe.For("cifar"));
    }

    [Fact]
    public void CommittedFashionModelMatchesItsManifestAndTheTrainersForwardPass()
    {
        var folder = Path.Combine(RepoPaths.Models, "fashion");
        var onnx = File.ReadAllBytes(Path.Combine(folder, "model.onnx"));
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "model.json")))!;
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(onnx)), (string?)manifest["sha256"]);
        Assert.Equal("fashion", (string?)manifest["name"]);
        Assert.Equal("fashion", (string?)manifest["input"]!["profile"]);
        Assert.Equal(ModelRecipe.Fashion.Labels, manifest["labels"]!.AsArray().Select(l => (string?)l));
        Assert.True((double)manifest["metrics"]!["test_accuracy"]! >= 0.91);

        // The trainer's network with the exported weights computes what ONNX Runtime computes from the file.
        var weights = OnnxInitializers.Read(onnx);
        var net = ConvNet.Fashion();
        foreach (var p in net.Parameters) weights[p.Name].CopyTo(p.Value, 0);
        var temperature = Assert.Single(weights["temperature"]);
        var images = Shapes(300, seed: 7);
        using var ort = new OrtModel(onnx, threads: 2);
        var fromOrt = ort.Run(images);
        var fromTrainer = Evaluator.Logits(net, images, threads: 2);
        var maxDiff = fromOrt.Zip(fromTrainer, (a, b) => Math.Abs(a - b / temperature)).Max();
        Assert.True(maxDiff <= TrainCommand.Tolerance, $"max difference {maxDiff}");
    }

    /// <summary>
    /// Ten classes of light shapes on black, in Fashion-MNIST's form: filled rectangles of ten aspect ratios
    /// with random shading and noise, their longer side near 28 pixels.
    /// </summary>
    private static Dataset Shapes(int count, int seed)
    {
        var pixels = new float[count * 784];
        var labels = new byte[count];
        for (var i = 0; i < count; i++)
        {
            var rng = Rng.For(seed, 77, i);
            var label = (byte)(i % 10);
            labels[i] = label;
            var (w, h) = label < 5 ? (6 + 4 * label, 26) : (26, 6 + 4 * (label - 5));
            w += rng.Next(3) - 1;
            h += rng.Next(3) - 1;
            int left = (28 - w) / 2, top = (28 - h) / 2;
            var level = 0.4f + 0.6f * rng.NextFloat();
            for (var y = top; y < top + h; y++)
            for (var x = left; x < left + w; x++)
                pixels[i * 784 + y * 28 + x] = Math.Clamp(level + 0.1f * rng.NextSigned(), 0, 1);
        }
        return new Dataset(count, new Shape(1, 28, 28), pixels, labels);
    }
}
