namespace PredictionApi.Training.Network;

/// <summary>A trainable tensor (weights or biases) and its ONNX shape.</summary>
internal sealed class Parameter(string name, params int[] shape)
{
    public string Name { get; } = name;

    public int[] Shape { get; } = shape;

    public float[] Value { get; } = new float[shape.Aggregate(1, (a, b) => a * b)];

    public long[] LongShape => Array.ConvertAll(Shape, d => (long)d);
}
