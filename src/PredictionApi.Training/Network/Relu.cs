using System.Numerics.Tensors;
using PredictionApi.Onnx;

namespace PredictionApi.Training.Network;

/// <summary>Rectified linear unit, y = max(x, 0).</summary>
internal sealed class Relu(Shape input) : Layer(input)
{
    public override Shape Output => Input;

    public override string Description => "relu";

    public override void Forward(ReadOnlySpan<float> x, Span<float> y, object? scratch, ref Rng rng, bool training) =>
        TensorPrimitives.Max(x, 0f, y);

    public override void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx, float[][] gradients, object? scratch)
    {
        for (var i = 0; i < dx.Length; i++) dx[i] = y[i] > 0 ? dy[i] : 0;
    }

    public override string Export(OnnxModelBuilder model, string input, string output)
    {
        model.AddNode("Relu", [input], [output]);
        return output;
    }
}
