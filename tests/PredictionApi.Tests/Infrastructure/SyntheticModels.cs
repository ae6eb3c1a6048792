using PredictionApi.Onnx;

namespace PredictionApi.Tests.Infrastructure;

/// <summary>
/// Tiny real ONNX classifiers written with PredictionApi.Onnx, for layouts and output kinds the
/// default model does not have. Each is a linear layer (Flatten, Gemm) over the whole input, so a test
/// can compute the expected output by hand from the tensor it expects the service to build.
/// </summary>
public static class SyntheticModels
{
    /// <summary>
    /// Writes <c>root/name/model.onnx</c> (+ model.json when <paramref name="manifestJson"/> is given):
    /// input "pixels" with the given shape (dimension 0 is the batch), output "scores" [batch, classes],
    /// logits = W · flatten(input), with softmax appended when <paramref name="probabilities"/> is set.
    /// Returns W, row-major [classes, values].
    /// </summary>
    public static float[] WriteLinear(string root, string name, OnnxDim[] inputShape, int classes, bool probabilities, string? manifestJson, int seed = 7)
    {
        var values = 1;
        foreach (var d in inputShape.Skip(1))
        {
            values *= (int)(d.Value ?? throw new ArgumentException("Only the batch dimension may be symbolic here."));
        }

        var weights = new float[classes * values];
        var random = new Random(seed);
        for (var i = 0; i < weights.Length; i++)
        {
            weights[i] = (float)(random.NextDouble() * 2 - 1);
        }

        var builder = new OnnxModelBuilder(name)
            .AddInput("pixels", OnnxElementType.Float, inputShape)
            .AddInitializer("w", weights, classes, values)
            .AddNode("Flatten", ["pixels"], ["flat"], OnnxAttribute.Int("axis", 1));
        if (probabilities)
        {
            builder.AddNode("Gemm", ["flat", "w"], ["logits"], OnnxAttribute.Int("transB", 1))
                .AddNode("Softmax", ["logits"], ["scores"], OnnxAttribute.Int("axis", 1));
        }
        else
        {
            builder.AddNode("Gemm", ["flat", "w"], ["scores"], OnnxAttribute.Int("transB", 1));
        }

        builder.AddOutput("scores", OnnxElementType.Float, "batch", classes);
        var folder = Path.Combine(root, name);
        Directory.CreateDirectory(folder);
        builder.Save(Path.Combine(folder, "model.onnx"));
        if (manifestJson is not null)
        {
            File.WriteAllText(Path.Combine(folder, "model.json"), manifestJson);
        }

        return weights;
    }

    /// <summary>W · x, then softmax: what the service should report for tensor x.</summary>
    public static float[] ExpectedProbabilities(float[] weights, int classes, ReadOnlySpan<float> tensor)
    {
        var logits = new double[classes];
        for (var c = 0; c < classes; c++)
        {
            for (var i = 0; i < tensor.Length; i++)
            {
                logits[c] += weights[c * tensor.Length + i] * (double)tensor[i];
            }
        }

        var max = logits.Max();
        var exp = logits.Select(l => Math.Exp(l - max)).ToArray();
        var sum = exp.Sum();
        return exp.Select(e => (float)(e / sum)).ToArray();
    }

    /// <summary>A fresh temporary models folder, deleted by the caller.</summary>
    public static string TempModelsFolder()
    {
        var path = Path.Combine(Path.GetTempPath(), "predictionapi-models-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        return path;
    }
}
