using PredictionApi.Training.Calibration;
using PredictionApi.Training.Data;
using PredictionApi.Training.Network;

namespace PredictionApi.Training.Tests;

public sealed class TrainingTests
{
    private static readonly Lazy<Dataset> Npm = new(() => Dataset.Load(RepoPaths.Npm10kImages, RepoPaths.Npm10kLabels, limit: 1200));

    [Fact]
    public void SameSeedGivesBitIdenticalWeightsOnTwoThreads()
    {
        var a = TrainTiny(seed: 5);
        var b = TrainTiny(seed: 5);
        var c = TrainTiny(seed: 6);

        Assert.Equal(a, b); // exact float equality, not approximate
        Assert.NotEqual(a, c);
    }

    [Fact]
    public void ShortTrainingLearnsDigitsFarAboveChance()
    {
        var (train, validation) = Npm.Value.Split(200, seed: 1);
        var net = ConvNet.Mnist().Initialize(1);
        var before = Evaluator.Accuracy(net, validation, threads: 2);

        var reports = new Trainer(net, new TrainOptions { Seed = 1, Epochs = 3, Augment = AugmentOptions.None }).Train(train, validation);

        Assert.InRange(before, 0f, 0.35f);
        Assert.True(reports[^1].ValidationAccuracy > 0.85f, $"validation accuracy {reports[^1].ValidationAccuracy}");
        Assert.True(reports[^1].Loss < reports[0].Loss);
        // Trained towards the uniform distribution on synthetic non-digits, it is far less sure about fresh ones.
        var nonDigits = new Dataset(200, new Shape(1, 28, 28), new float[200 * 784], new byte[200]);
        for (var i = 0; i < nonDigits.Count; i++)
        {
            var rng = Rng.For(99, 99, i);
            NonDigits.Generate(nonDigits.Pixels.AsSpan(i * 784, 784), ref rng);
        }
        var digitsSure = TopProbabilities.Of(Evaluator.Logits(net, validation, 2), 10, 1).Average();
        var nonDigitsSure = TopProbabilities.Of(Evaluator.Logits(net, nonDigits, 2), 10, 1).Average();
        Assert.True(nonDigitsSure < digitsSure - 0.3f, $"mean top probability {nonDigitsSure:F3} on non-digits, {digitsSure:F3} on digits");
    }

    [Fact]
    public void ValidationSplitIsDisjointAndSeeded()
    {
        var data = Npm.Value;
        var (train, validation) = data.Split(100, seed: 3);
        var (_, again) = data.Split(100, seed: 3);
        var (_, other) = data.Split(100, seed: 4);

        Assert.Equal(data.Count - 100, train.Count);
        Assert.Equal(validation.Pixels, again.Pixels);
        Assert.NotEqual(validation.Pixels, other.Pixels);
        var trainImages = Enumerable.Range(0, train.Count).Select(i => Key(train.Image(i))).ToHashSet();
        Assert.DoesNotContain(Enumerable.Range(0, validation.Count), i => trainImages.Contains(Key(validation.Image(i))));
    }

    [Fact]
    public void LearningRateWarmsUpThenDecaysToZero()
    {
        var options = new TrainOptions { LearningRate = 0.01f };
        Assert.True(options.LearningRateAt(0, 5000) < 0.001f);
        Assert.Equal(0.01f, options.LearningRateAt(200, 5000), 1e-6f);
        Assert.True(options.LearningRateAt(2600, 5000) < options.LearningRateAt(1000, 5000));
        Assert.Equal(0f, options.LearningRateAt(5000, 5000), 1e-6f);
    }

    private static float[] TrainTiny(int seed)
    {
        var data = Npm.Value.Split(1000, seed: 1).Train; // 200 images
        var net = ConvNet.Mnist().Initialize(seed);
        new Trainer(net, new TrainOptions { Seed = seed, Epochs = 1, BatchSize = 32, Threads = 2 }).Train(data, validation: null);
        return net.Parameters.SelectMany(p => p.Value).ToArray();
    }

    private static string Key(ReadOnlySpan<float> image) => Convert.ToBase64String(System.Runtime.InteropServices.MemoryMarshal.AsBytes(image));
}
