using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Microsoft.ML.OnnxRuntime;
using PredictionApi.Training.Calibration;
using PredictionApi.Training.Data;
using PredictionApi.Training.Export;
using PredictionApi.Training.Network;

namespace PredictionApi.Training.Tests;

public sealed class ExportTests
{
    private static readonly Lazy<Dataset> T10k = new(() => Dataset.Load(RepoPaths.T10kImages, RepoPaths.T10kLabels));

    [Fact]
    public void ExportedNetworkComputesTheTrainersLogitsOnTestImages()
    {
        var train = Dataset.Load(RepoPaths.Npm10kImages, RepoPaths.Npm10kLabels, limit: 1000);
        var net = ConvNet.Mnist().Initialize(4);
        new Trainer(net, new TrainOptions { Seed = 4, Epochs = 1 }).Train(train, validation: null);

        using var ort = new OrtModel(net.ToOnnx("check", "test").ToBytes());
        var test = T10k.Value;
        var fromOrt = ort.Run(test, batchSize: 100);
        var fromTrainer = Evaluator.Logits(net, test, threads: 2);

        Assert.Equal(fromTrainer.Length, fromOrt.Length);
        var maxDiff = fromOrt.Zip(fromTrainer, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(maxDiff <= 1e-4f, $"max difference {maxDiff}");
        Assert.True(fromTrainer.Max() - fromTrainer.Min() > 1, "logits should be spread out by a trained network");
    }

    [Fact]
    public void ExportedGraphHasDynamicBatchAndDocumentedNames()
    {
        var net = ConvNet.Mnist().Initialize(1);
        using var session = new InferenceSession(net.ToOnnx("mnist", "1").ToBytes());

        var input = Assert.Single(session.InputMetadata);
        Assert.Equal("input", input.Key);
        Assert.Equal([-1, 1, 28, 28], input.Value.Dimensions);
        Assert.Equal("batch", input.Value.SymbolicDimensions[0]);
        var output = Assert.Single(session.OutputMetadata);
        Assert.Equal("logits", output.Key);
        Assert.Equal([-1, 10], output.Value.Dimensions);
    }

    [Fact]
    public void DefaultArchitectureStaysWithinTheInferenceBudget()
    {
        var net = ConvNet.Mnist();
        // 24*24*16*25 + 8*8*32*400 + 512*128 + 128*10
        Assert.Equal(1_116_416, net.MultiplyAdds);
        Assert.True(net.MultiplyAdds <= 1_500_000);
    }

    [Fact]
    public void CommittedModelMatchesItsManifestAndReachesTheAccuracyBar()
    {
        var onnx = File.ReadAllBytes(Path.Combine(RepoPaths.Models, "mnist", "model.onnx"));
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(RepoPaths.Models, "mnist", "model.json")))!;

        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(onnx)), (string?)manifest["sha256"]);
        Assert.Equal("mnist", (string?)manifest["name"]);
        Assert.Equal("input", (string?)manifest["input"]!["name"]);
        Assert.Equal("NCHW", (string?)manifest["input"]!["layout"]);
        Assert.Equal("mnist", (string?)manifest["input"]!["profile"]);
        Assert.Equal("unit", (string?)manifest["input"]!["scaling"]);
        Assert.Equal("logits", (string?)manifest["output"]!["kind"]);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => i.ToString()), manifest["labels"]!.AsArray().Select(l => (string?)l));

        using var ort = new OrtModel(onnx, threads: 2);
        var test = T10k.Value;
        var logits = ort.Run(test);
        var accuracy = Evaluator.Accuracy(logits, test.Labels);
        Assert.True(accuracy >= 0.993f, $"t10k accuracy {accuracy:P2} is below 99.3 %");
        // The probabilities the service shows (softmax of the output) are calibrated: ECE at most 1 %.
        var ece = CalibrationError.Expected(logits, test.Labels);
        Assert.True(ece <= 0.01, $"t10k expected calibration error {ece:P2} is above 1 %");
        // The manifest reports what the model really scores.
        var metrics = manifest["metrics"]!;
        Assert.Equal((double)metrics["test_accuracy"]!, accuracy, 1e-4);
        Assert.Equal((double)metrics["test_ece_15_bins_after_calibration"]!, ece, 1e-4);
        Assert.True((double)metrics["test_ece_15_bins_before_calibration"]! > ece);
    }
}
