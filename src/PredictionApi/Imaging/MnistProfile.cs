namespace PredictionApi.Imaging;

/// <summary>
/// Turns a grayscale picture of one digit into a 28x28 MNIST-style image (0..255, light digit on a
/// dark ground), the way MNIST itself was made: the digit is cropped to its ink, scaled with
/// anti-aliasing to fit a 20x20 box keeping its aspect ratio, and placed in 28x28 so that its centre
/// of mass sits at the centre. Digits written dark on light (paper, a canvas) are inverted first.
/// </summary>
internal static class MnistProfile
{
    public const int Size = 28;
    private const int Box = 20;

    // Below this ground-to-ink contrast (of 255) there is no digit to find: the result is blank.
    private const float MinContrast = 32;

    // Pixels count as ink for the bounding box above this share of the ground-to-ink range.
    private const float InkShare = 0.2f;

    // Edge rows and columns holding less than this share of all ink (specks, paper grain) are trimmed.
    private const float TrimShare = 0.002f;

    /// <summary>
    /// Writes the 28x28 result into <paramref name="output"/> (row-major, 0..255). A 28x28 image that is
    /// already light on dark is copied unchanged, so MNIST's own images reach the model exactly as they are.
    /// </summary>
    public static void Apply(ReadOnlySpan<float> gray, int width, int height, Span<float> output)
    {
        var (ground, spread) = Border(gray, width, height);
        var invert = ground > 127.5f;
        if (width == Size && height == Size && !invert)
        {
            gray.CopyTo(output);
            return;
        }

        output[..(Size * Size)].Clear();
        var length = width * height;
        var work = Scratch<float>.Rent(length);
        try
        {
            var plane = work.AsSpan(0, length);
            var peak = 0f;
            for (var i = 0; i < length; i++)
            {
                var v = invert ? 255 - gray[i] : gray[i];
                plane[i] = v;
                peak = Math.Max(peak, v);
            }

            if (invert)
            {
                ground = 255 - ground;
            }

            if (peak - ground < MinContrast)
            {
                return;
            }

            // Lift the ground to black: paper grain and shadows (a few standard deviations) become background.
            var low = ground + Math.Min(0.25f * (peak - ground), 3 * spread);
            var range = peak - low;
            for (var i = 0; i < length; i++)
            {
                plane[i] = Math.Clamp((plane[i] - low) / range, 0, 1) * 255;
            }

            if (MassBox.Find(plane, width, height, InkShare * 255, TrimShare) is not { } box)
            {
                return;
            }

            var scale = (float)Box / Math.Max(box.W, box.H);
            var fitW = Math.Clamp((int)MathF.Round(box.W * scale), 1, Box);
            var fitH = Math.Clamp((int)MathF.Round(box.H * scale), 1, Box);
            Span<float> digit = stackalloc float[Box * Box];
            digit = digit[..(fitW * fitH)];
            Resampler.Resize(plane, width, height, box.X, box.Y, box.W, box.H, digit, fitW, fitH);
            PlaceByCentreOfMass(digit, fitW, fitH, output);
        }
        finally
        {
            Scratch<float>.Return(work);
        }
    }

    /// <summary>Mean and standard deviation of a ring along the edges: the ground the digit is written on.</summary>
    private static (float Mean, float StdDev) Border(ReadOnlySpan<float> gray, int width, int height)
    {
        var ring = Math.Max(1, Math.Min(width, height) / 16);
        double sum = 0, sumSq = 0;
        long n = 0;
        for (var y = 0; y < height; y++)
        {
            var edgeRow = y < ring || y >= height - ring;
            var row = gray.Slice(y * width, width);
            for (var x = 0; x < width; x++)
            {
                if (edgeRow || x < ring || x >= width - ring)
                {
                    sum += row[x];
                    sumSq += row[x] * row[x];
                    n++;
                }
            }
        }

        var mean = sum / n;
        return ((float)mean, (float)Math.Sqrt(Math.Max(0, sumSq / n - mean * mean)));
    }

    /// <summary>Copies the fitted digit into the 28x28 output so its centre of mass lands on the centre.</summary>
    private static void PlaceByCentreOfMass(ReadOnlySpan<float> digit, int w, int h, Span<float> output)
    {
        double mass = 0, mx = 0, my = 0;
        for (var y = 0; y < h; y++)
        {
            for (var x = 0; x < w; x++)
            {
                var v = digit[y * w + x];
                mass += v;
                mx += v * (x + 0.5);
                my += v * (y + 0.5);
            }
        }

        var (cx, cy) = mass > 0 ? (mx / mass, my / mass) : (w / 2.0, h / 2.0);
        // Whole-pixel shifts as in MNIST; clamped so no ink falls off the canvas.
        var left = Math.Clamp((int)Math.Round(Size / 2.0 - cx), 0, Size - w);
        var top = Math.Clamp((int)Math.Round(Size / 2.0 - cy), 0, Size - h);
        for (var y = 0; y < h; y++)
        {
            digit.Slice(y * w, w).CopyTo(output.Slice((top + y) * Size + left, w));
        }
    }
}
