using PredictionApi.Onnx;

namespace PredictionApi.Training.Network;

/// <summary>Inverted dropout: scales kept units by 1/(1-p) while training, so inference is the identity and exports no node.</summary>
internal sealed class Dropout(Shape input, float rate) : Layer(input)
{
    public float Rate { get; } = rate is >= 0 and < 1 ? rate : throw new ArgumentOutOfRangeException(nameof(rate), rate, "Dropout rate must be in [0, 1).");

    public override Shape Output => Input;

    public override string Description => $"dropout {Rate} (training only)";

    public override object CreateScratch() => new float[Input.Size];

    public override void Forward(ReadOnlySpan<float> x, Span<float> y, object? scratch, ref Rng rng, bool training)
    {
        var mask = (float[])scratch!;
        var keep = 1 / (1 - Rate);
        for (var i = 0; i < x.Length; i++)
        {
            mask[i] = !training || rng.NextFloat() >= Rate ? (training ? keep : 1) : 0;
            y[i] = x[i] * mask[i];
        }
    }

    public override void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx, float[][] gradients, object? scratch)
    {
        var mask = (float[])scratch!;
        for (var i = 0; i < dx.Length; i++) dx[i] = dy[i] * mask[i];
    }

    public override string Export(OnnxModelBuilder model, string input, string output) => input;
}
