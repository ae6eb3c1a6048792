using PredictionApi.Training.Network;

namespace PredictionApi.Training.Calibration;

/// <summary>How sure a model is over a set of images: the distribution of its top probability.</summary>
internal sealed record TopProbabilities(double Mean, double Median, double P10, double P90, double Above09, double Above099)
{
    public static float[] Of(ReadOnlySpan<float> logits, int classes, float temperature)
    {
        var count = logits.Length / classes;
        var top = new float[count];
        Span<float> p = stackalloc float[classes];
        for (var i = 0; i < count; i++)
        {
            TemperatureScaling.Softmax(logits.Slice(i * classes, classes), temperature, p);
            top[i] = p[SoftmaxCrossEntropy.ArgMax(p)];
        }
        return top;
    }

    public static TopProbabilities Summarise(float[] top)
    {
        var sorted = top.Order().ToArray();
        double Quantile(double q) => sorted[Math.Clamp((int)Math.Floor(q * sorted.Length), 0, sorted.Length - 1)];
        return new TopProbabilities(
            Math.Round(top.Average(), 4), Math.Round(Quantile(0.5), 4), Math.Round(Quantile(0.1), 4), Math.Round(Quantile(0.9), 4),
            Math.Round(top.Count(v => v > 0.9f) / (double)top.Length, 4), Math.Round(top.Count(v => v > 0.99f) / (double)top.Length, 4));
    }
}
