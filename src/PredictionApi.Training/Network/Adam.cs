namespace PredictionApi.Training.Network;

/// <summary>Adam with decoupled weight decay (AdamW) on every weight tensor; biases are not decayed.</summary>
internal sealed class Adam(IReadOnlyList<Parameter> parameters, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-8f)
{
    private readonly float[][] m = [.. parameters.Select(p => new float[p.Value.Length])];
    private readonly float[][] v = [.. parameters.Select(p => new float[p.Value.Length])];
    private int step;

    public float WeightDecay { get; init; }

    /// <summary>Applies one step with the averaged gradients <paramref name="gradients"/> (same order as the parameters).</summary>
    public void Step(IReadOnlyList<float[]> gradients, float learningRate)
    {
        step++;
        var correction1 = 1 - MathF.Pow(beta1, step);
        var correction2 = 1 - MathF.Pow(beta2, step);
        for (var p = 0; p < parameters.Count; p++)
        {
            var value = parameters[p].Value;
            var decay = parameters[p].Shape.Length > 1 ? WeightDecay * learningRate : 0;
            float[] g = gradients[p], mp = m[p], vp = v[p];
            for (var i = 0; i < value.Length; i++)
            {
                mp[i] = beta1 * mp[i] + (1 - beta1) * g[i];
                vp[i] = beta2 * vp[i] + (1 - beta2) * g[i] * g[i];
                var update = mp[i] / correction1 / (MathF.Sqrt(vp[i] / correction2) + epsilon);
                value[i] -= learningRate * update + decay * value[i];
            }
        }
    }
}
