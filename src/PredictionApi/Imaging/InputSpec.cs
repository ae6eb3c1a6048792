namespace PredictionApi.Imaging;

public enum TensorLayout
{
    NCHW,
    NHWC,
}

public enum PixelScaling
{
    /// <summary>pixel / 255, 0..1.</summary>
    Unit,

    /// <summary>pixel as 0..255.</summary>
    Raw,

    /// <summary>(pixel / 255 - mean[c]) / std[c].</summary>
    Standard,
}

public enum ResizeMode
{
    Stretch,
    Fit,
    Crop,
}

public enum PreprocessProfile
{
    None,
    Mnist,
}

/// <summary>An sRGB colour (alpha is composited onto it; <see cref="ResizeMode.Fit"/> pads with it).</summary>
public readonly record struct Rgb(byte R, byte G, byte B)
{
    public static Rgb White => new(255, 255, 255);

    public override string ToString() => $"#{R:x2}{G:x2}{B:x2}";

    public static bool TryParse(string? text, out Rgb colour)
    {
        colour = White;
        if (text is not { Length: 7 } || text[0] != '#' || !uint.TryParse(text.AsSpan(1), System.Globalization.NumberStyles.HexNumber, null, out var v))
        {
            return false;
        }

        colour = new Rgb((byte)(v >> 16), (byte)(v >> 8), (byte)v);
        return true;
    }
}

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
