namespace PredictionApi.Training.Network;

/// <summary>
/// One thread's working memory for a network: activations, their gradients, layer scratch and its own
/// gradient sums. The trainer adds the workers' sums in a fixed order, which keeps runs bit-for-bit repeatable.
/// </summary>
internal sealed class Worker
{
    private readonly ConvNet net;
    private readonly float[][] activations, deltas;
    private readonly object?[] scratch;

    public Worker(ConvNet net)
    {
        this.net = net;
        var layers = net.Layers;
        activations = [new float[net.Input.Size], .. layers.Select(l => new float[l.Output.Size])];
        deltas = [.. activations.Select(a => new float[a.Length])];
        scratch = [.. layers.Select(l => l.CreateScratch())];
        Gradients = [.. layers.Select(l => l.Parameters.Select(p => new float[p.Value.Length]).ToArray())];
    }

    /// <summary>Gradient sums per layer and parameter since the last <see cref="ClearGradients"/>.</summary>
    public float[][][] Gradients { get; }

    /// <summary>Input buffer of the next pass.</summary>
    public Span<float> Input => activations[0];

    public ReadOnlySpan<float> Logits => activations[^1];

    public void ClearGradients()
    {
        foreach (var layer in Gradients)
        foreach (var g in layer) Array.Clear(g);
    }

    /// <summary>Runs the network on <see cref="Input"/>; the result is in <see cref="Logits"/>.</summary>
    public void Forward(ref Rng rng, bool training)
    {
        var layers = net.Layers;
        for (var i = 0; i < layers.Count; i++) layers[i].Forward(activations[i], activations[i + 1], scratch[i], ref rng, training);
    }

    /// <summary>Forward and backward pass on <see cref="Input"/>; adds to <see cref="Gradients"/> and returns the loss.</summary>
    public float Train(int label, ref Rng rng, float smoothing, out bool correct)
    {
        Forward(ref rng, training: true);
        correct = SoftmaxCrossEntropy.ArgMax(Logits) == label;
        var loss = SoftmaxCrossEntropy.LossAndGradient(Logits, label, deltas[^1], smoothing);
        Backward();
        return loss;
    }

    /// <summary>Back-propagates whatever gradient is in the last delta buffer (set by <see cref="Train"/> or a test).</summary>
    public void Backward(bool inputGradient = false)
    {
        var layers = net.Layers;
        for (var i = layers.Count - 1; i >= 0; i--)
        {
            var dx = i > 0 || inputGradient ? deltas[i].AsSpan() : Span<float>.Empty;
            layers[i].Backward(activations[i], activations[i + 1], deltas[i + 1], dx, Gradients[i], scratch[i]);
        }
    }

    /// <summary>Gradient buffer of the network output (the logits), for tests that back-propagate their own loss.</summary>
    public Span<float> OutputDelta => deltas[^1];

    /// <summary>Gradient of the input after <see cref="Backward"/> with <c>inputGradient</c> set.</summary>
    public ReadOnlySpan<float> InputDelta => deltas[0];
}
