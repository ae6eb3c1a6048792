namespace PredictionApi.Imaging;

/// <summary>
/// What the model wants as input, fully resolved from its manifest and ONNX metadata: the preprocessor
/// turns any accepted image into exactly this tensor.
/// </summary>
public sealed record InputSpec
{
    public required string Name { get; init; }

    public required TensorLayout Layout { get; init; }

    public required int Height { get; init; }

    public required int Width { get; init; }

    /// <summary>1 (grayscale by luminance) or 3 (colour).</summary>
    public required int Channels { get; init; }

    /// <summary>For 3-channel models: true when the model expects BGR rather than RGB.</summary>
    public bool Bgr { get; init; }

    public PixelScaling Scaling { get; init; } = PixelScaling.Unit;

    public float[] Mean { get; init; } = [];

    public float[] Std { get; init; } = [];

    public ResizeMode Resize { get; init; } = ResizeMode.Stretch;

    public Rgb Background { get; init; } = Rgb.White;

    public PreprocessProfile Profile { get; init; } = PreprocessProfile.None;

    /// <summary>Values in one input tensor (batch of one).</summary>
    public int TensorLength => Channels * Height * Width;

    /// <summary>Shape of a batch-of-one tensor in the model's layout.</summary>
    public long[] Shape => Layout == TensorLayout.NCHW ? [1, Channels, Height, Width] : [1, Height, Width, Channels];
}
