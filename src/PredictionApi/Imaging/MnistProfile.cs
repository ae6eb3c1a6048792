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
        var ground = Border(gray, width, height);
        var invert = ground.Mean > 127.5f;
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
            // Ink is measured from the ground under it: uneven light (a shadow across a photographed page) tilts the
            // ground, and a level ground would count the darker side of the paper as ink.
            var plane = work.AsSpan(0, length);
            var sign = invert ? -1 : 1;
            var peak = 0f;
            for (var y = 0; y < height; y++)
            {
                var level = ground.Mean + ground.SlopeY * (y - (height - 1) / 2f);
                for (var x = 0; x < width; x++)
                {
                    var i = y * width + x;
                    var v = sign * (gray[i] - (level + ground.SlopeX * (x - (width - 1) / 2f)));
                    plane[i] = v;
                    peak = Math.Max(peak, v);
                }
            }

            if (peak < MinContrast)
            {
                return;
            }

            // Lift the ground to black: paper grain and shadows (a few standard deviations) become background.
            var low = Math.Min(0.25f * peak, 3 * ground.StdDev);
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

    /// <summary>
    /// The ground the digit is written on, from a ring along the edges: the plane (level at the centre and slope along
    /// each axis) that fits the ring best, and the standard deviation of the ring around that plane.
    /// </summary>
    private static (float Mean, float SlopeX, float SlopeY, float StdDev) Border(ReadOnlySpan<float> gray, int width, int height)
    {
        var ring = Math.Max(1, Math.Min(width, height) / 16);
        var (midX, midY) = ((width - 1) / 2.0, (height - 1) / 2.0);
        // The ring is symmetric about the centre, so in centred coordinates the level and the two slopes fit separately.
        double sum = 0, sumSq = 0, sumX = 0, sumY = 0, xx = 0, yy = 0;
        long n = 0;
        for (var y = 0; y < height; y++)
        {
            var edgeRow = y < ring || y >= height - ring;
            var row = gray.Slice(y * width, width);
            var dy = y - midY;
            for (var x = 0; x < width; x++)
            {
                if (edgeRow || x < ring || x >= width - ring)
                {
                    var v = row[x];
                    var dx = x - midX;
                    sum += v;
                    sumSq += v * v;
                    sumX += dx * v;
                    sumY += dy * v;
                    xx += dx * dx;
                    yy += dy * dy;
                    n++;
                }
            }
        }

        var mean = sum / n;
        var (slopeX, slopeY) = (xx > 0 ? sumX / xx : 0, yy > 0 ? sumY / yy : 0);
        // What the plane explains is taken out of the variance; the rest is grain and noise.
        var variance = sumSq / n - mean * mean - slopeX * sumX / n - slopeY * sumY / n;
        return ((float)mean, (float)slopeX, (float)slopeY, (float)Math.Sqrt(Math.Max(0, variance)));
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
