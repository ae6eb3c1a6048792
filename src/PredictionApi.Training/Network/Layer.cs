using PredictionApi.Onnx;

namespace PredictionApi.Training.Network;

/// <summary>
/// One layer of a feed-forward network, working on one sample at a time. Layers hold only their parameters:
/// everything that changes during a pass (im2col buffers, pooling indices, dropout masks) lives in a scratch
/// object owned by the calling thread, so two threads can run the same layer at once.
/// </summary>
internal abstract class Layer(Shape input)
{
    public Shape Input { get; } = input;

    public abstract Shape Output { get; }

    public virtual IReadOnlyList<Parameter> Parameters => [];

    /// <summary>Multiply-adds of one forward pass at inference.</summary>
    public virtual long MultiplyAdds => 0;

    public abstract string Description { get; }

    public virtual object? CreateScratch() => null;

    public virtual void Initialize(ref Rng rng) { }

    public abstract void Forward(ReadOnlySpan<float> x, Span<float> y, object? scratch, ref Rng rng, bool training);

    /// <summary>
    /// Back-propagates <paramref name="dy"/>: adds parameter gradients to <paramref name="gradients"/> (one array per parameter)
    /// and writes the input gradient to <paramref name="dx"/> unless it is empty (the first layer needs none).
    /// </summary>
    public abstract void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx, float[][] gradients, object? scratch);

    /// <summary>Adds the ONNX nodes of this layer reading <paramref name="input"/>; returns the name of the produced value.</summary>
    public abstract string Export(OnnxModelBuilder model, string input, string output);
}
