using PredictionApi.Onnx;

namespace PredictionApi.Training.Network;

/// <summary>2x2 max pooling with stride 2 (odd trailing rows/columns are dropped, as ONNX MaxPool does).</summary>
internal sealed class MaxPool2d(Shape input) : Layer(input)
{
    public override Shape Output { get; } = new(input.Channels, input.Height / 2, input.Width / 2);

    public override string Description => $"max-pool 2x2, {Input} -> {Output}";

    // Index of the winning input per output, so the backward pass routes the gradient without recomputing.
    public override object CreateScratch() => new int[Output.Size];

    public override void Forward(ReadOnlySpan<float> x, Span<float> y, object? scratch, ref Rng rng, bool training)
    {
        var argmax = (int[])scratch!;
        int h = Input.Height, w = Input.Width, oh = Output.Height, ow = Output.Width;
        for (var c = 0; c < Output.Channels; c++)
        for (var i = 0; i < oh; i++)
        for (var j = 0; j < ow; j++)
        {
            var best = c * h * w + 2 * i * w + 2 * j;
            ReadOnlySpan<int> window = [best + 1, best + w, best + w + 1];
            foreach (var candidate in window)
            {
                if (x[candidate] > x[best]) best = candidate;
            }
            var o = (c * oh + i) * ow + j;
            y[o] = x[best];
            argmax[o] = best;
        }
    }

    public override void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx, float[][] gradients, object? scratch)
    {
        if (dx.IsEmpty) return;
        var argmax = (int[])scratch!;
        dx.Clear();
        for (var o = 0; o < dy.Length; o++) dx[argmax[o]] += dy[o];
    }

    public override string Export(OnnxModelBuilder model, string input, string output)
    {
        model.AddNode("MaxPool", [input], [output], OnnxAttribute.Ints("kernel_shape", 2, 2), OnnxAttribute.Ints("strides", 2, 2));
        return output;
    }
}
