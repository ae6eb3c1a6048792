namespace PredictionApi.Training.Calibration;

/// <summary>
/// Temperature scaling (Guo et al. 2017): one number T that divides every logit, chosen to minimise the
/// negative log-likelihood of held-out labels. It leaves every argmax unchanged, so accuracy is untouched;
/// only how sure the probabilities are moves.
/// </summary>
internal static class TemperatureScaling
{
    /// <summary>Mean negative log-likelihood of <paramref name="labels"/> under softmax(logits / T).</summary>
    public static double NegativeLogLikelihood(ReadOnlySpan<float> logits, ReadOnlySpan<byte> labels, double temperature)
    {
        var classes = logits.Length / labels.Length;
        double total = 0;
        for (var i = 0; i < labels.Length; i++)
        {
            var row = logits.Slice(i * classes, classes);
            var max = double.NegativeInfinity;
            foreach (var z in row) max = Math.Max(max, z / temperature);
            double sum = 0;
            foreach (var z in row) sum += Math.Exp(z / temperature - max);
            total += max + Math.Log(sum) - row[labels[i]] / temperature;
        }
        return total / labels.Length;
    }

    /// <summary>
    /// The T in [0.05, 20] with the lowest NLL, by golden-section search on log T (the NLL is unimodal in T),
    /// rounded to four significant digits so the number written into the model reads the same everywhere.
    /// </summary>
    public static float Fit(ReadOnlySpan<float> logits, ReadOnlySpan<byte> labels)
    {
        double lo = Math.Log(0.05), hi = Math.Log(20);
        var ratio = (Math.Sqrt(5) - 1) / 2;
        double a = hi - ratio * (hi - lo), b = lo + ratio * (hi - lo);
        double fa = NegativeLogLikelihood(logits, labels, Math.Exp(a)), fb = NegativeLogLikelihood(logits, labels, Math.Exp(b));
        for (var i = 0; i < 60; i++)
        {
            if (fa < fb)
            {
                (hi, b, fb) = (b, a, fa);
                a = hi - ratio * (hi - lo);
                fa = NegativeLogLikelihood(logits, labels, Math.Exp(a));
            }
            else
            {
                (lo, a, fa) = (a, b, fb);
                b = lo + ratio * (hi - lo);
                fb = NegativeLogLikelihood(logits, labels, Math.Exp(b));
            }
        }
        var t = Math.Exp((lo + hi) / 2);
        return (float)Math.Round(t, 3 - (int)Math.Floor(Math.Log10(t)));
    }

    /// <summary>Softmax of <paramref name="logits"/> / <paramref name="temperature"/>.</summary>
    public static void Softmax(ReadOnlySpan<float> logits, float temperature, Span<float> probabilities)
    {
        var max = float.NegativeInfinity;
        foreach (var z in logits) max = MathF.Max(max, z);
        double sum = 0;
        for (var k = 0; k < logits.Length; k++) sum += probabilities[k] = (float)Math.Exp((logits[k] - (double)max) / temperature);
        for (var k = 0; k < logits.Length; k++) probabilities[k] = (float)(probabilities[k] / sum);
    }
}
