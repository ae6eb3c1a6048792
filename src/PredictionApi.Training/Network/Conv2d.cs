using System.Numerics.Tensors;
using PredictionApi.Onnx;

namespace PredictionApi.Training.Network;

/// <summary>
/// Square "valid" convolution with stride 1, computed as im2col followed by one matrix product.
/// Weights are [out, in, k, k] as in ONNX Conv, which is also the [out x in*k*k] matrix of the product.
/// </summary>
internal sealed class Conv2d : Layer
{
    private readonly int kernel, rows, columns;

    public Conv2d(Shape input, int outChannels, int kernel, string name) : base(input)
    {
        if (input.Height < kernel || input.Width < kernel)
            throw new ArgumentException($"A {kernel}x{kernel} kernel does not fit a {input} input.");
        this.kernel = kernel;
        Output = new Shape(outChannels, input.Height - kernel + 1, input.Width - kernel + 1);
        rows = input.Channels * kernel * kernel;
        columns = Output.Height * Output.Width;
        Weights = new Parameter($"{name}.weight", outChannels, input.Channels, kernel, kernel);
        Bias = new Parameter($"{name}.bias", outChannels);
    }

    public Parameter Weights { get; }

    public Parameter Bias { get; }

    public override Shape Output { get; }

    public override IReadOnlyList<Parameter> Parameters => [Weights, Bias];

    public override long MultiplyAdds => (long)Output.Size * rows;

    public override string Description => $"conv {kernel}x{kernel} {Input.Channels}->{Output.Channels} valid, {Input} -> {Output}";

    public override object CreateScratch() => new Scratch(rows * columns, Weights.Value.Length);

    public override void Initialize(ref Rng rng)
    {
        // He initialisation suits the ReLU that follows.
        var std = MathF.Sqrt(2f / rows);
        for (var i = 0; i < Weights.Value.Length; i++) Weights.Value[i] = rng.NextGaussian() * std;
    }

    public override void Forward(ReadOnlySpan<float> x, Span<float> y, object? scratch, ref Rng rng, bool training)
    {
        var s = (Scratch)scratch!;
        Im2Col(x, s.Columns);
        Gemm.Multiply(Weights.Value, s.Columns, y, Output.Channels, rows, columns, accumulate: false);
        for (var o = 0; o < Output.Channels; o++) TensorPrimitives.Add(y.Slice(o * columns, columns), Bias.Value[o], y.Slice(o * columns, columns));
    }

    public override void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx, float[][] gradients, object? scratch)
    {
        var s = (Scratch)scratch!;
        // dW += dy [out x N] * columns^T [N x rows]; the columns still hold this sample's im2col from Forward.
        Gemm.Transpose(s.Columns, s.ColumnsT, rows, columns);
        Gemm.Multiply(dy, s.ColumnsT, gradients[0], Output.Channels, columns, rows, accumulate: true);
        for (var o = 0; o < Output.Channels; o++) gradients[1][o] += TensorPrimitives.Sum(dy.Slice(o * columns, columns));
        if (dx.IsEmpty) return;

        Gemm.Transpose(Weights.Value, s.WeightsT, Output.Channels, rows);
        Gemm.Multiply(s.WeightsT, dy, s.Columns, rows, Output.Channels, columns, accumulate: false);
        Col2Im(s.Columns, dx);
    }

    public override string Export(OnnxModelBuilder model, string input, string output)
    {
        model.AddInitializer(Weights.Name, Weights.Value, Weights.LongShape)
             .AddInitializer(Bias.Name, Bias.Value, Bias.LongShape)
             .AddNode("Conv", [input, Weights.Name, Bias.Name], [output], OnnxAttribute.Ints("kernel_shape", kernel, kernel));
        return output;
    }

    // Row (c, ki, kj) of the column matrix holds input channel c shifted by (ki, kj): one contiguous copy per output row.
    private void Im2Col(ReadOnlySpan<float> x, Span<float> cols)
    {
        int h = Input.Height, w = Input.Width, oh = Output.Height, ow = Output.Width;
        for (var c = 0; c < Input.Channels; c++)
        for (var ki = 0; ki < kernel; ki++)
        for (var kj = 0; kj < kernel; kj++)
        {
            var row = cols.Slice(((c * kernel + ki) * kernel + kj) * columns, columns);
            for (var i = 0; i < oh; i++) x.Slice(c * h * w + (i + ki) * w + kj, ow).CopyTo(row.Slice(i * ow, ow));
        }
    }

    private void Col2Im(ReadOnlySpan<float> cols, Span<float> dx)
    {
        int h = Input.Height, w = Input.Width, oh = Output.Height, ow = Output.Width;
        dx.Clear();
        for (var c = 0; c < Input.Channels; c++)
        for (var ki = 0; ki < kernel; ki++)
        for (var kj = 0; kj < kernel; kj++)
        {
            var row = cols.Slice(((c * kernel + ki) * kernel + kj) * columns, columns);
            for (var i = 0; i < oh; i++)
            {
                var target = dx.Slice(c * h * w + (i + ki) * w + kj, ow);
                TensorPrimitives.Add(target, row.Slice(i * ow, ow), target);
            }
        }
    }

    private sealed class Scratch(int columnsSize, int weightsSize)
    {
        public float[] Columns { get; } = new float[columnsSize];
        public float[] ColumnsT { get; } = new float[columnsSize];
        public float[] WeightsT { get; } = new float[weightsSize];
    }
}
