namespace PredictionApi.Training.Network;

/// <summary>Shape of one sample's activations: channels x height x width (a dense vector is C x 1 x 1).</summary>
internal readonly record struct Shape(int Channels, int Height, int Width)
{
    public int Size => Channels * Height * Width;

    public override string ToString() => Height == 1 && Width == 1 ? $"{Channels}" : $"{Channels}x{Height}x{Width}";
}
