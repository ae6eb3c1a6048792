namespace PredictionApi.Training.Uploads;

/// <summary>An 8-bit grayscale picture as the service sees it after decoding: luminance 0..255, 255 = white paper.</summary>
internal sealed class GrayImage(int width, int height)
{
    public int Width { get; } = width;

    public int Height { get; } = height;

    public float[] Pixels { get; } = new float[width * height];

    /// <summary>Rounds every pixel to a whole level in 0..255, as storing the picture in a PNG or JPEG does.</summary>
    public GrayImage Quantize()
    {
        for (var i = 0; i < Pixels.Length; i++) Pixels[i] = MathF.Round(Math.Clamp(Pixels[i], 0, 255));
        return this;
    }
}
