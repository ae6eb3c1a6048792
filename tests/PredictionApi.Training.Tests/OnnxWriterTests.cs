using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using PredictionApi.Onnx;

namespace PredictionApi.Training.Tests;

/// <summary>Models written by <see cref="OnnxModelBuilder"/> load in ONNX Runtime and compute what a plain C# reference computes.</summary>
public sealed class OnnxWriterTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void NchwGrayscaleConvNetMatchesReference(bool softmax)
    {
        var rng = new Random(3);
        float[] w = Random(rng, 2 * 1 * 2 * 2), b = Random(rng, 2), fw = Random(rng, 3 * 2 * 3 * 3), fb = Random(rng, 3);
        var builder = new OnnxModelBuilder("tiny")
            .AddInput("input", OnnxElementType.Float, "batch", 1, 4, 4)
            .AddInitializer("w", w, 2, 1, 2, 2)
            .AddInitializer("b", b, 2)
            .AddInitializer("fw", fw, 3, 18)
            .AddInitializer("fb", fb, 3)
            .AddNode("Conv", ["input", "w", "b"], ["conv"], OnnxAttribute.Ints("kernel_shape", 2, 2))
            .AddNode("Relu", ["conv"], ["relu"])
            .AddNode("Flatten", ["relu"], ["flat"], OnnxAttribute.Int("axis", 1))
            .AddNode("Gemm", ["flat", "fw", "fb"], [softmax ? "logits" : "out"], OnnxAttribute.Int("transB", 1));
        if (softmax) builder.AddNode("Softmax", ["logits"], ["out"], OnnxAttribute.Int("axis", 1));
        builder.AddOutput("out", OnnxElementType.Float, "batch", 3);

        using var session = new InferenceSession(builder.ToBytes());
        var x = Random(rng, 2 * 16);
        var actual = Run(session, "input", x, [2, 1, 4, 4]);

        for (var n = 0; n < 2; n++)
        {
            var conv = new float[2 * 3 * 3];
            for (var c = 0; c < 2; c++)
            for (var i = 0; i < 3; i++)
            for (var j = 0; j < 3; j++)
            {
                var s = b[c];
                for (var ki = 0; ki < 2; ki++)
                for (var kj = 0; kj < 2; kj++)
                    s += w[c * 4 + ki * 2 + kj] * x[n * 16 + (i + ki) * 4 + j + kj];
                conv[c * 9 + i * 3 + j] = Math.Max(0, s);
            }
            var expected = Dense(conv, fw, fb, 3);
            if (softmax) expected = Softmax(expected);
            for (var k = 0; k < 3; k++) Assert.Equal(expected[k], actual[n * 3 + k], 1e-5f);
        }
        if (softmax) Assert.Equal(1f, actual[..3].Sum(), 1e-5f);
    }

    [Fact]
    public void NhwcColourInputIsTransposedLikeKerasModels()
    {
        var rng = new Random(5);
        float[] fw = Random(rng, 4 * 27), fb = Random(rng, 4);
        var bytes = new OnnxModelBuilder("nhwc")
            .AddInput("input_1", OnnxElementType.Float, "N", 3, 3, 3)
            .AddInitializer("fw", fw, 4, 27)
            .AddInitializer("fb", fb, 4)
            .AddNode("Transpose", ["input_1"], ["nchw"], OnnxAttribute.Ints("perm", 0, 3, 1, 2))
            .AddNode("Flatten", ["nchw"], ["flat"])
            .AddNode("Gemm", ["flat", "fw", "fb"], ["probs_logits"], OnnxAttribute.Int("transB", 1), OnnxAttribute.Float("alpha", 0.5f))
            .AddNode("Softmax", ["probs_logits"], ["probs"], OnnxAttribute.Int("axis", -1))
            .AddOutput("probs", OnnxElementType.Float, "N", 4)
            .ToBytes();

        using var session = new InferenceSession(bytes);
        var input = session.InputMetadata["input_1"];
        Assert.Equal([-1, 3, 3, 3], input.Dimensions);
        Assert.Equal("N", input.SymbolicDimensions[0]);

        var x = Random(rng, 27); // HWC order
        var actual = Run(session, "input_1", x, [1, 3, 3, 3]);

        var chw = new float[27];
        for (var h = 0; h < 3; h++)
        for (var wi = 0; wi < 3; wi++)
        for (var c = 0; c < 3; c++)
            chw[c * 9 + h * 3 + wi] = x[h * 9 + wi * 3 + c];
        var logits = Dense(chw, fw, fb, 4);
        for (var k = 0; k < 4; k++) logits[k] = (logits[k] - fb[k]) * 0.5f + fb[k]; // Gemm alpha scales A*B only
        var expected = Softmax(logits);
        for (var k = 0; k < 4; k++) Assert.Equal(expected[k], actual[k], 1e-5f);
    }

    [Fact]
    public void Int64InitializersAndStringAttributesAreUnderstood()
    {
        var bytes = new OnnxModelBuilder("reshape")
            .AddInput("x", OnnxElementType.Float, "batch", 2, 3)
            .AddInitializer("shape", [-1L, 6], 2)
            .AddInitializer("pads", [0L, 1, 0, 1], 4)
            .AddNode("Reshape", ["x", "shape"], ["flat"])
            .AddNode("Pad", ["flat", "pads"], ["y"], OnnxAttribute.String("mode", "edge"))
            .AddOutput("y", OnnxElementType.Float, "batch", 8)
            .ToBytes();

        using var session = new InferenceSession(bytes);
        var y = Run(session, "x", [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], [2, 2, 3]);

        Assert.Equal([1f, 1, 2, 3, 4, 5, 6, 6, 7, 7, 8, 9, 10, 11, 12, 12], y);
    }

    [Fact]
    public void UnknownNodeInputIsRefusedWithItsName()
    {
        var builder = new OnnxModelBuilder("bad").AddInput("x", OnnxElementType.Float, "batch", 2);
        var ex = Assert.Throws<ArgumentException>(() => builder.AddNode("Relu", ["y"], ["z"]));
        Assert.Contains("'y'", ex.Message);
    }

    [Fact]
    public void InitializerShapeMustMatchItsValues()
    {
        var builder = new OnnxModelBuilder("bad");
        var ex = Assert.Throws<ArgumentException>(() => builder.AddInitializer("w", [1f, 2f, 3f], 2, 2));
        Assert.Contains("3 values", ex.Message);
    }

    [Fact]
    public void OutputWithoutProducerIsRefused()
    {
        var builder = new OnnxModelBuilder("bad")
            .AddInput("x", OnnxElementType.Float, "batch", 2)
            .AddOutput("y", OnnxElementType.Float, "batch", 2);
        Assert.Throws<InvalidOperationException>(() => builder.ToBytes());
    }

    [Fact]
    public void ProducerAndOpsetAreWrittenToTheModel()
    {
        var bytes = new OnnxModelBuilder("meta", opset: 13) { ProducerName = "unit-test", ProducerVersion = "9.9", Description = "doc" }
            .AddInput("x", OnnxElementType.Float, "batch", 2)
            .AddInitializer("shape", [-1L, 1, 2], 3)
            .AddNode("Reshape", ["x", "shape"], ["y"])
            .AddOutput("y", OnnxElementType.Float, "batch", 1, 2)
            .ToBytes();

        using var session = new InferenceSession(bytes);
        Assert.Equal("unit-test", session.ModelMetadata.ProducerName);
        Assert.Equal("doc", session.ModelMetadata.Description);
        Assert.Equal("meta", session.ModelMetadata.GraphName);
        var y = Run(session, "x", [1f, 2f, 3f, 4f], [2, 2]);
        Assert.Equal([1f, 2f, 3f, 4f], y);
        Assert.Equal([-1, 1, 2], session.OutputMetadata["y"].Dimensions);
    }

    internal static float[] Run(InferenceSession session, string inputName, float[] data, int[] shape)
    {
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(inputName, new DenseTensor<float>(data, shape))]);
        return results[0].AsEnumerable<float>().ToArray();
    }

    private static float[] Random(Random rng, int n) => Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();

    private static float[] Dense(float[] x, float[] w, float[] b, int outputs)
    {
        var y = new float[outputs];
        for (var o = 0; o < outputs; o++)
        {
            y[o] = b[o];
            for (var i = 0; i < x.Length; i++) y[o] += w[o * x.Length + i] * x[i];
        }
        return y;
    }

    private static float[] Softmax(float[] z)
    {
        var max = z.Max();
        var e = z.Select(v => MathF.Exp(v - max)).ToArray();
        var sum = e.Sum();
        return e.Select(v => v / sum).ToArray();
    }
}
