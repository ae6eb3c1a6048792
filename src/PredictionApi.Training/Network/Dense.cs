using System.Numerics.Tensors;
using PredictionApi.Onnx;

namespace PredictionApi.Training.Network;

/// <summary>Fully connected layer y = W x + b with W stored [out, in], exported as ONNX Gemm with transB = 1.</summary>
internal sealed class Dense : Layer
{
    public Dense(Shape input, int outputs, string name) : base(input)
    {
        Output = new Shape(outputs, 1, 1);
        Weights = new Parameter($"{name}.weight", outputs, input.Size);
        Bias = new Parameter($"{name}.bias", outputs);
    }

    public Parameter Weights { get; }

    public Parameter Bias { get; }

    public override Shape Output { get; }

    public override IReadOnlyList<Parameter> Parameters => [Weights, Bias];

    public override long MultiplyAdds => (long)Input.Size * Output.Size;

    public override string Description => $"dense {Input.Size}->{Output.Size}";

    public override void Initialize(ref Rng rng)
    {
        var std = MathF.Sqrt(2f / Input.Size);
        for (var i = 0; i < Weights.Value.Length; i++) Weights.Value[i] = rng.NextGaussian() * std;
    }

    public override void Forward(ReadOnlySpan<float> x, Span<float> y, object? scratch, ref Rng rng, bool training)
    {
        var n = Input.Size;
        for (var o = 0; o < y.Length; o++) y[o] = TensorPrimitives.Dot(Weights.Value.AsSpan(o * n, n), x) + Bias.Value[o];
    }

    public override void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx, float[][] gradients, object? scratch)
    {
        var n = Input.Size;
        if (!dx.IsEmpty) dx.Clear();
        for (var o = 0; o < dy.Length; o++)
        {
            if (dy[o] == 0) continue; // common after ReLU and dropout
            var grad = gradients[0].AsSpan(o * n, n);
            TensorPrimitives.MultiplyAdd(x, dy[o], grad, grad);
            gradients[1][o] += dy[o];
            if (!dx.IsEmpty) TensorPrimitives.MultiplyAdd(Weights.Value.AsSpan(o * n, n), dy[o], dx, dx);
        }
    }

    public override string Export(OnnxModelBuilder model, string input, string output)
    {
        // Gemm needs a matrix: a spatial input (after pooling) is flattened in C, H, W order, the order used here.
        if (Input.Height * Input.Width > 1)
        {
            var flat = $"{output}_flat";
            model.AddNode("Flatten", [input], [flat], OnnxAttribute.Int("axis", 1));
            input = flat;
        }
        model.AddInitializer(Weights.Name, Weights.Value, Weights.LongShape)
             .AddInitializer(Bias.Name, Bias.Value, Bias.LongShape)
             .AddNode("Gemm", [input, Weights.Name, Bias.Name], [output], OnnxAttribute.Int("transB", 1));
        return output;
    }
}
