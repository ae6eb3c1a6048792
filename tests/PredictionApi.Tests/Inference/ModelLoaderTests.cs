using Microsoft.Extensions.Logging.Abstractions;
using PredictionApi.Imaging;
using PredictionApi.Inference;
using PredictionApi.Onnx;

namespace PredictionApi.Tests.Inference;

/// <summary>Model folders loaded by real ONNX Runtime sessions.</summary>
public sealed class ModelLoaderTests : IDisposable
{
    private readonly string _models = SyntheticModels.TempModelsFolder();

    public void Dispose() => Directory.Delete(_models, recursive: true);

    private ImageClassifier Load(string name) =>
        ModelLoader.Load(new ModelOptions { Directory = _models, Name = name }, NullLogger.Instance);

    [Fact]
    public void AFolderWithoutAManifestIsServedFromTheOnnxMetadata()
    {
        var weights = SyntheticModels.WriteLinear(_models, "keras-like", ["batch", 4, 4, 3], classes: 5, probabilities: true, manifestJson: null);
        using var classifier = Load("keras-like");

        var spec = classifier.Spec;
        Assert.Equal(("keras-like", "1", "pixels", TensorLayout.NHWC, 4, 4, 3), (spec.Name, spec.Version, spec.Input.Name, spec.Input.Layout, spec.Input.Height, spec.Input.Width, spec.Input.Channels));
        Assert.Equal(("scores", 5), (spec.Output.Name, spec.Output.Classes));
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(Path.Combine(_models, "keras-like", "model.onnx")))), spec.Sha256);

        // The session really runs: its softmax output is used as is (auto) and matches the linear algebra.
        var input = Enumerable.Range(0, 48).Select(i => i / 48f).ToArray();
        var probabilities = new float[5];
        var likely = classifier.Classify(input, probabilities);
        var expected = SyntheticModels.ExpectedProbabilities(weights, 5, input);
        for (var c = 0; c < 5; c++)
        {
            Assert.Equal(expected[c], probabilities[c], 4);
        }

        Assert.Equal(Array.IndexOf(expected, expected.Max()), likely);
    }

    [Fact]
    public void LogitsAreTurnedIntoProbabilities()
    {
        var weights = SyntheticModels.WriteLinear(_models, "logits", ["batch", 1, 6, 6], classes: 4, probabilities: false,
            manifestJson: """{ "output": { "kind": "logits" } }""");
        using var classifier = Load("logits");
        var input = Enumerable.Range(0, 36).Select(i => (i % 7) / 3f).ToArray();
        var probabilities = new float[4];
        classifier.Classify(input, probabilities);
        Assert.Equal(1.0, probabilities.Sum(p => (double)p), 5);
        var expected = SyntheticModels.ExpectedProbabilities(weights, 4, input);
        for (var c = 0; c < 4; c++)
        {
            Assert.Equal(expected[c], probabilities[c], 4);
        }
    }

    [Fact]
    public void AManifestWhoseSha256DoesNotMatchTheFileIsRefused()
    {
        SyntheticModels.WriteLinear(_models, "tampered", ["batch", 1, 2, 2], 2, false, """{ "sha256": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" }""");
        var e = Assert.Throws<ModelConfigurationException>(() => Load("tampered"));
        Assert.Contains("Refusing to serve", e.Message);
    }

    [Fact]
    public void AMissingModelFolderListsTheAvailableOnes()
    {
        SyntheticModels.WriteLinear(_models, "present", ["batch", 1, 2, 2], 2, false, null);
        var e = Assert.Throws<ModelConfigurationException>(() => Load("absent"));
        Assert.Contains("present", e.Message);
    }

    [Fact]
    public void AFileThatIsNotOnnxIsRefusedClearly()
    {
        Directory.CreateDirectory(Path.Combine(_models, "junk"));
        File.WriteAllText(Path.Combine(_models, "junk", "model.onnx"), "this is not a protobuf");
        var e = Assert.Throws<ModelConfigurationException>(() => Load("junk"));
        Assert.Contains("cannot load", e.Message);
    }
}
