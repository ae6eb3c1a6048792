using PredictionApi.Training.Network;

namespace PredictionApi.Training.Uploads;

/// <summary>Small image filters on float planes (row-major, edges clamped): what pens, scanners and cameras do to strokes.</summary>
internal static class Filters
{
    /// <summary>Separable Gaussian blur with standard deviation <paramref name="sigma"/> pixels, in place.</summary>
    public static void GaussianBlur(float[] plane, int width, int height, float sigma)
    {
        if (sigma <= 0.05f) return;
        var r = (int)MathF.Ceiling(3 * sigma);
        var kernel = new float[2 * r + 1];
        for (var i = -r; i <= r; i++) kernel[i + r] = MathF.Exp(-i * i / (2 * sigma * sigma));
        var sum = kernel.Sum();
        for (var i = 0; i < kernel.Length; i++) kernel[i] /= sum;

        var temp = new float[plane.Length];
        for (var y = 0; y < height; y++)
        for (var x = 0; x < width; x++)
        {
            var s = 0f;
            for (var k = -r; k <= r; k++) s += kernel[k + r] * plane[y * width + Math.Clamp(x + k, 0, width - 1)];
            temp[y * width + x] = s;
        }
        for (var y = 0; y < height; y++)
        for (var x = 0; x < width; x++)
        {
            var s = 0f;
            for (var k = -r; k <= r; k++) s += kernel[k + r] * temp[Math.Clamp(y + k, 0, height - 1) * width + x];
            plane[y * width + x] = s;
        }
    }

    /// <summary>Gaussian noise blurred by <paramref name="sigma"/> pixels and scaled to unit RMS: blotches a few sigma across.</summary>
    public static float[] SmoothNoise(int width, int height, float sigma, ref Rng rng)
    {
        var field = new float[width * height];
        for (var i = 0; i < field.Length; i++) field[i] = rng.NextGaussian();
        GaussianBlur(field, width, height, sigma);
        var rms = MathF.Sqrt(field.Sum(v => v * v) / field.Length) + 1e-6f;
        for (var i = 0; i < field.Length; i++) field[i] /= rms;
        return field;
    }

    /// <summary>
    /// Thickens (<paramref name="pixels"/> &gt; 0) or thins (&lt; 0) light strokes on a dark ground by about that many
    /// pixels per side: whole steps of grayscale dilation or erosion over a 3x3 cross, the fraction blended in.
    /// </summary>
    public static void Thickness(float[] plane, int width, int height, float pixels)
    {
        var steps = MathF.Abs(pixels);
        var dilate = pixels > 0;
        var next = new float[plane.Length];
        while (steps > 0)
        {
            var share = MathF.Min(1, steps);
            for (var y = 0; y < height; y++)
            for (var x = 0; x < width; x++)
            {
                var i = y * width + x;
                float v = plane[i], n = v;
                foreach (var (dx, dy) in Cross)
                {
                    int xx = x + dx, yy = y + dy;
                    // Outside the plane is ground (0): erosion eats strokes touching the edge, dilation ignores it.
                    var u = (uint)xx < (uint)width && (uint)yy < (uint)height ? plane[yy * width + xx] : 0;
                    n = dilate ? MathF.Max(n, u) : MathF.Min(n, u);
                }
                next[i] = v + share * (n - v);
            }
            next.CopyTo(plane, 0);
            steps -= share;
        }
    }

    private static readonly (int Dx, int Dy)[] Cross = [(-1, 0), (1, 0), (0, -1), (0, 1)];
}
