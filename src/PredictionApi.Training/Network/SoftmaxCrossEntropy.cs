namespace PredictionApi.Training.Network;

/// <summary>Softmax followed by cross-entropy against one label, with optional label smoothing.</summary>
internal static class SoftmaxCrossEntropy
{
    /// <summary>Returns the loss and writes d(loss)/d(logits) = softmax - target into <paramref name="gradient"/>.</summary>
    public static float LossAndGradient(ReadOnlySpan<float> logits, int label, Span<float> gradient, float smoothing = 0)
    {
        var classes = logits.Length;
        var max = float.NegativeInfinity;
        foreach (var z in logits) max = MathF.Max(max, z);
        var sum = 0f;
        for (var k = 0; k < classes; k++) sum += gradient[k] = MathF.Exp(logits[k] - max);
        var logSum = MathF.Log(sum);
        var loss = 0f;
        for (var k = 0; k < classes; k++)
        {
            var target = (k == label ? 1 - smoothing : 0) + smoothing / classes;
            loss -= target * (logits[k] - max - logSum);
            gradient[k] = gradient[k] / sum - target;
        }
        return loss;
    }

    public static int ArgMax(ReadOnlySpan<float> values)
    {
        var best = 0;
        for (var k = 1; k < values.Length; k++)
        {
            if (values[k] > values[best]) best = k;
        }
        return best;
    }
}
