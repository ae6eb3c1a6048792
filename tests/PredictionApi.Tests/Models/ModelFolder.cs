using PredictionApi.Onnx;

namespace PredictionApi.Tests.Models;

/// <summary>Model folders for the multi-model tests: copies of the shipped models and versions of synthetic ones.</summary>
internal static class ModelFolder
{
    /// <summary>Copies the shipped model <paramref name="name"/> (models/name) into <paramref name="root"/>.</summary>
    public static void CopyShipped(string root, string name)
    {
        var from = Path.Combine(RepoPaths.Models, name);
        var to = Path.Combine(root, name);
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        }
    }

    /// <summary>
    /// Writes version <paramref name="version"/> of a 4x4 grey linear model with 3 classes under root/name/version,
    /// with its own weights (from <paramref name="seed"/>); returns them.
    /// </summary>
    public static float[] WriteLinearVersion(string root, string name, string version, int seed) =>
        SyntheticModels.WriteLinear(Path.Combine(root, name), version, ["batch", 1, 4, 4], classes: 3, probabilities: true,
            manifestJson: $$"""{ "name": "{{name}}", "labels": ["low", "middle", "high"] }""", seed: seed);

    /// <summary>
    /// Writes "colours", a user's model with nothing but its ONNX file and a hand-written manifest: 4x4 NHWC colour,
    /// logits, labels red, green and blue.
    /// </summary>
    public static void WriteColours(string root) =>
        SyntheticModels.WriteLinear(root, "colours", ["batch", 4, 4, 3], classes: 3, probabilities: false,
            manifestJson: """{ "version": "7", "output": { "kind": "logits" }, "labels": ["red", "green", "blue"] }""");

    /// <summary>
    /// Writes root/name/model.onnx the way another tool might export it: "logits" = W · flatten(input) over an input
    /// "pixels" of <paramref name="inputShape"/> (4x4 grey unless given), then whatever <paramref name="tail"/> adds,
    /// which must produce and declare the graph's outputs. Returns W, row-major [classes, 16].
    /// </summary>
    public static float[] WriteLinearWith(string root, string name, int classes, Func<OnnxModelBuilder, OnnxModelBuilder> tail,
        string? manifestJson = null, OnnxDim[]? inputShape = null, int seed = 5)
    {
        var random = new Random(seed);
        var weights = Enumerable.Range(0, classes * 16).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var builder = new OnnxModelBuilder(name)
            .AddInput("pixels", OnnxElementType.Float, inputShape ?? ["batch", 1, 4, 4])
            .AddInitializer("w", weights, classes, 16)
            .AddNode("Flatten", ["pixels"], ["flat"], OnnxAttribute.Int("axis", 1))
            .AddNode("Gemm", ["flat", "w"], ["logits"], OnnxAttribute.Int("transB", 1));
        var folder = Path.Combine(root, name);
        Directory.CreateDirectory(folder);
        tail(builder).Save(Path.Combine(folder, "model.onnx"));
        if (manifestJson is not null)
        {
            File.WriteAllText(Path.Combine(folder, "model.json"), manifestJson);
        }

        return weights;
    }

    /// <summary>W · x for each class: the "logits" of a <see cref="WriteLinearWith"/> model for tensor x.</summary>
    public static double[] Logits(float[] weights, int classes, IReadOnlyList<float> tensor) =>
        Enumerable.Range(0, classes).Select(c => Enumerable.Range(0, tensor.Count).Sum(i => weights[c * tensor.Count + i] * (double)tensor[i])).ToArray();

    /// <summary>Writes "broken", a folder whose model.onnx is not an ONNX file.</summary>
    public static void WriteBroken(string root)
    {
        Directory.CreateDirectory(Path.Combine(root, "broken"));
        File.WriteAllText(Path.Combine(root, "broken", "model.onnx"), "not an onnx file");
    }

    /// <summary>A 4x4 grey PNG whose pixels depend on <paramref name="n"/>.</summary>
    public static byte[] Swatch(int n) =>
        TestImages.PngGray8(4, 4, Enumerable.Range(0, 16).Select(i => (byte)((i * 37 + n * 11) % 256)).ToArray());

    /// <summary>The tensor the service makes of <see cref="Swatch"/>: pixel / 255.</summary>
    public static float[] SwatchTensor(int n) =>
        Enumerable.Range(0, 16).Select(i => (byte)((i * 37 + n * 11) % 256) / 255f).ToArray();
}
