namespace PredictionApi.Inference;

/// <summary>Turns a model's raw output row into a probability distribution.</summary>
public static class Probabilities
{
    // A row within this distance of summing to 1, with every value in 0..1, already is a distribution.
    private const float DistributionTolerance = 1e-3f;

    public static void FromOutput(ReadOnlySpan<float> raw, OutputKind kind, Span<float> probabilities)
    {
        foreach (var v in raw)
        {
            if (!float.IsFinite(v))
            {
                throw new UnusableOutputException("the model produced a value that is not finite (NaN or infinity).");
            }
        }

        var useAsIs = kind switch
        {
            OutputKind.Probabilities => true,
            OutputKind.Logits => false,
            _ => IsDistribution(raw),
        };
        if (useAsIs)
        {
            Normalize(raw, probabilities);
        }
        else
        {
            Softmax(raw, probabilities);
        }
    }

    /// <summary>Softmax with the maximum subtracted first, so large logits cannot overflow exp.</summary>
    public static void Softmax(ReadOnlySpan<float> logits, Span<float> probabilities)
    {
        var max = float.NegativeInfinity;
        foreach (var v in logits)
        {
            max = Math.Max(max, v);
        }

        double sum = 0;
        for (var i = 0; i < logits.Length; i++)
        {
            var e = Math.Exp(logits[i] - (double)max);
            probabilities[i] = (float)e;
            sum += e;
        }

        for (var i = 0; i < logits.Length; i++)
        {
            probabilities[i] = (float)(probabilities[i] / sum);
        }
    }

    public static int ArgMax(ReadOnlySpan<float> values)
    {
        var best = 0;
        for (var i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
            {
                best = i;
            }
        }

        return best;
    }

    /// <summary>Every value in 0..1 and the sum within <see cref="DistributionTolerance"/> of 1.</summary>
    public static bool IsDistribution(ReadOnlySpan<float> raw)
    {
        double sum = 0;
        foreach (var v in raw)
        {
            if (v is < 0 or > 1)
            {
                return false;
            }

            sum += v;
        }

        return Math.Abs(sum - 1) <= DistributionTolerance;
    }

    /// <summary>Rescales a model's own probabilities so float rounding does not leave the sum off 1.</summary>
    private static void Normalize(ReadOnlySpan<float> raw, Span<float> probabilities)
    {
        double sum = 0;
        foreach (var v in raw)
        {
            if (v < 0)
            {
                throw new UnusableOutputException("output.kind is probabilities but the model produced a negative value; if its output is logits, set output.kind to logits in model.json.");
            }

            sum += v;
        }

        if (sum <= 0)
        {
            throw new UnusableOutputException("output.kind is probabilities but the model produced an all-zero row; if its output is logits, set output.kind to logits in model.json.");
        }

        for (var i = 0; i < raw.Length; i++)
        {
            probabilities[i] = (float)(raw[i] / sum);
        }
    }
}
