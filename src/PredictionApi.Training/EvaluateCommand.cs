using System.Text.Json.Nodes;
using PredictionApi.Training.Data;
using PredictionApi.Training.Export;
using PredictionApi.Training.Network;

namespace PredictionApi.Training;

/// <summary>
/// <c>evaluate</c>: accuracy of a model folder on labelled IDX files through ONNX Runtime, and its inference time
/// per image at a given batch size on one thread (the cost a service request pays).
/// </summary>
internal static class EvaluateCommand
{
    public static int Run(Arguments args)
    {
        var modelDir = args.Required("model");
        var data = Dataset.Load(args.Required("images"), args.Required("labels"));
        var batch = args.Int("batch", 64);
        var rounds = args.Int("rounds", 5);
        args.RejectUnknown();

        var onnx = File.ReadAllBytes(Path.Combine(modelDir, "model.onnx"));
        var manifestPath = Path.Combine(modelDir, "model.json");
        if (File.Exists(manifestPath))
        {
            var expected = JsonNode.Parse(File.ReadAllText(manifestPath))?["sha256"]?.GetValue<string>();
            var actual = Manifest.Sha256(onnx);
            Console.WriteLine($"sha256 {actual} {(expected == actual ? "matches model.json" : $"DOES NOT MATCH model.json ({expected})")}");
        }

        using var ort = new OrtModel(onnx, threads: 1);
        var accuracy = Evaluator.Accuracy(ort.Run(data, batch), data.Labels);
        var correct = (int)Math.Round(accuracy * data.Count);
        Console.WriteLine($"accuracy: {correct}/{data.Count} = {accuracy:P2}");
        var ms = ort.MillisecondsPerImage(data, batch, rounds);
        Console.WriteLine($"ONNX Runtime, 1 intra-op thread, batch {batch}: {ms:F4} ms/image ({1000 / ms:N0} images/s)");
        return 0;
    }
}
