using PredictionApi.Training.Network;

namespace PredictionApi.Training.Calibration;

/// <summary>
/// Expected calibration error: predictions are grouped by their top probability into equal-width bins, and the
/// gaps between each bin's accuracy and its mean top probability are averaged, weighted by the bin's share.
/// 0 means "90 % sure" is right nine times in ten at every level of sureness.
/// </summary>
internal static class CalibrationError
{
    public const int DefaultBins = 15;

    /// <summary>ECE of softmax(logits / T) against <paramref name="labels"/> over <paramref name="bins"/> bins of (0, 1].</summary>
    public static double Expected(ReadOnlySpan<float> logits, ReadOnlySpan<byte> labels, float temperature = 1, int bins = DefaultBins)
    {
        var classes = logits.Length / labels.Length;
        var confidence = new double[bins];
        var correct = new int[bins];
        var count = new int[bins];
        Span<float> p = stackalloc float[classes];
        for (var i = 0; i < labels.Length; i++)
        {
            TemperatureScaling.Softmax(logits.Slice(i * classes, classes), temperature, p);
            var best = SoftmaxCrossEntropy.ArgMax(p);
            // Bins are (lo, hi]: a top probability of exactly 1 falls in the last one.
            var bin = Math.Clamp((int)Math.Ceiling(p[best] * bins) - 1, 0, bins - 1);
            confidence[bin] += p[best];
            count[bin]++;
            if (best == labels[i]) correct[bin]++;
        }
        double ece = 0;
        for (var b = 0; b < bins; b++)
        {
            if (count[b] > 0) ece += Math.Abs(correct[b] - confidence[b]) / labels.Length;
        }
        return ece;
    }
}
