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
        if (width == Size && height == Size && EdgeMean(gray) <= 127.5f)
        {
            gray.CopyTo(output);
            return;
        }

        output[..(Size * Size)].Clear();
        // Ink is measured from the ground under it: under uneven light (a shadow across a photographed page) the
        // ground is a slope, and a level ground would count the darker side of the paper as ink.
        var ground = Ground.Fit(gray, width, height);
        var sign = ground.Level > 127.5f ? -1 : 1;
        var length = width * height;
        var work = Scratch<float>.Rent(length);
        try
        {
            var plane = work.AsSpan(0, length);
            var peak = 0f;
            for (var y = 0; y < height; y++)
            {
                var level = ground.At(0, y, width, height);
                for (var x = 0; x < width; x++)
                {
                    var i = y * width + x;
                    plane[i] = sign * (gray[i] - (level + ground.SlopeX * x));
                    peak = Math.Max(peak, plane[i]);
                }
            }

            if (peak < MinContrast)
            {
                return;
            }

            // Lift the ground to black: paper grain and shadows (a few standard deviations) become background.
            var low = Math.Min(0.25f * peak, 3 * ground.Spread);
            var range = peak - low;
            for (var i = 0; i < length; i++)
            {
                plane[i] = Math.Clamp((plane[i] - low) / range, 0, 1) * 255;
            }

            RuledLines.Erase(plane, width, height);
            if (MassBox.Find(plane, width, height, InkShare * 255, TrimShare) is not { } box)
            {
                return;
            }

            if (EdgeInk.Erase(plane, width, height, InkShare * 255, box))
            {
                if (MassBox.Find(plane, width, height, InkShare * 255, TrimShare) is not { } inner)
                {
                    return;
                }

                box = inner;
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

    /// <summary>Mean of a 28x28 image's outermost pixels: light on dark (MNIST's own form) when at most mid-grey.</summary>
    private static float EdgeMean(ReadOnlySpan<float> gray)
    {
        var sum = 0f;
        for (var i = 0; i < Size; i++)
        {
            sum += gray[i] + gray[(Size - 1) * Size + i];
            sum += i is > 0 and < Size - 1 ? gray[i * Size] + gray[i * Size + Size - 1] : 0;
        }

        return sum / (4 * Size - 4);
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
