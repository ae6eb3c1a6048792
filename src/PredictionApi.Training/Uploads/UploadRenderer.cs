using PredictionApi.Imaging;
using PredictionApi.Training.Network;

namespace PredictionApi.Training.Uploads;

/// <summary>
/// Draws an MNIST digit (28x28, light ink 0..1 on dark) as a picture a user might upload: re-inked to the
/// style's stroke width, drawn at the style's resolution with paper around it, then blurred, lit, textured,
/// noised and stored in 8 bits (optionally as a JPEG). Randomness (gaps, grain, noise) comes from the caller's stream.
/// </summary>
internal static class UploadRenderer
{
    private const int Side = 28;

    public static GrayImage Render(ReadOnlySpan<float> digit, UploadStyle style, ref Rng rng)
    {
        var ink = digit.ToArray();
        if (style.Thickness != 0) Filters.Thickness(ink, Side, Side, style.Thickness);
        for (var b = 0; b < style.Breaks; b++) Break(ink, ref rng);

        var size = Math.Max(2, (int)MathF.Round(Side * style.Scale));
        var sizeX = Math.Max(2, (int)MathF.Round(Side * style.Scale * style.Aspect));
        if (style.Through is { } through)
        {
            var low = Math.Max(2, (int)MathF.Round(Side * through));
            var lowX = Math.Max(2, (int)MathF.Round(Side * through * style.Aspect));
            ink = Resize(Resize(ink, Side, Side, lowX, low), lowX, low, sizeX, size);
        }
        else
        {
            ink = Resize(ink, Side, Side, sizeX, size);
        }

        // The blur spreads ink beyond the digit's rectangle: blur a padded copy so nothing is cut at its edge.
        var pad = style.Blur > 0.05f ? (int)MathF.Ceiling(3 * style.Blur) : 0;
        int paddedX = sizeX + 2 * pad, padded = size + 2 * pad;
        var plane = new float[paddedX * padded];
        for (var y = 0; y < size; y++) ink.AsSpan(y * sizeX, sizeX).CopyTo(plane.AsSpan((y + pad) * paddedX + pad));
        Filters.GaussianBlur(plane, paddedX, padded, style.Blur);

        int left = Margin(style.Left, size), top = Margin(style.Top, size);
        int width = Math.Max(1, left + sizeX + Margin(style.Right, size)), height = Math.Max(1, top + size + Margin(style.Bottom, size));
        var image = new GrayImage(width, height);
        // Paper texture: blotches about three pixels across.
        var grain = style.Grain > 0 ? Filters.SmoothNoise(width, height, 1.5f, ref rng) : null;
        float cos = MathF.Cos(style.GradientAngle), sin = MathF.Sin(style.GradientAngle);
        var diagonal = MathF.Sqrt(width * width + height * height);
        for (var y = 0; y < height; y++)
        for (var x = 0; x < width; x++)
        {
            int px = x - left + pad, py = y - top + pad;
            var v = (uint)px < (uint)paddedX && (uint)py < (uint)padded ? Math.Clamp(plane[py * paddedX + px], 0, 1) : 0;
            var paper = style.Paper + style.Gradient * ((x - width / 2f) * cos + (y - height / 2f) * sin) / diagonal;
            if (grain is not null) paper += style.Grain * grain[y * width + x];
            var level = paper + v * (style.Ink - paper);
            if (style.Noise > 0) level += style.Noise * rng.NextGaussian();
            if (style.Binarize is { } threshold) level = (level < threshold) == (style.Ink < style.Paper) ? style.Ink : style.Paper;
            image.Pixels[y * width + x] = level;
        }
        image.Quantize();
        return style.JpegQuality is { } quality ? Jpeg.RoundTrip(image, quality) : image;
    }

    private static int Margin(float share, int size) => Math.Max(0, (int)MathF.Round(share * size));

    private static float[] Resize(float[] source, int width, int height, int toWidth, int toHeight)
    {
        if (width == toWidth && height == toHeight) return source;
        var result = new float[toWidth * toHeight];
        Resampler.Resize(source, width, height, 0, 0, width, height, result, toWidth, toHeight);
        return result;
    }

    /// <summary>Cuts a round gap (radius 0.8 to 1.8 MNIST pixels, soft edged) where a stroke is.</summary>
    private static void Break(float[] ink, ref Rng rng)
    {
        for (var attempt = 0; attempt < 50; attempt++)
        {
            var i = rng.Next(ink.Length);
            if (ink[i] < 0.5f) continue;
            float cx = i % Side, cy = i / Side, radius = 0.8f + rng.NextFloat();
            for (var y = 0; y < Side; y++)
            for (var x = 0; x < Side; x++)
            {
                var d = MathF.Sqrt((x - cx) * (x - cx) + (y - cy) * (y - cy));
                ink[y * Side + x] *= Math.Clamp(d - radius + 0.5f, 0, 1);
            }
            return;
        }
    }
}
