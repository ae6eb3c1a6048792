using PredictionApi.Training.Network;
using PredictionApi.Training.Uploads;

namespace PredictionApi.Training.Data;

/// <summary>Strength of the random distortions applied to each training image.</summary>
internal sealed record AugmentOptions(
    float MaxRotationDegrees = 12,
    float MaxScale = 0.12f,
    float MaxShear = 0.25f,
    float MaxShift = 2.5f,
    float ElasticAlpha = 1.2f,
    float ElasticSigma = 4f,
    float UploadShare = 0.5f)
{
    public static AugmentOptions None { get; } = new(0, 0, 0, 0, 0, 4, 0);

    /// <summary>Share of the images mirrored left to right (clothing has no handedness; digits do, so 0 for them).</summary>
    public float FlipShare { get; init; }

    /// <summary>Round the shifts to whole pixels, so an image without rotation, scale or shear is moved, never blurred.</summary>
    public bool WholePixelShifts { get; init; }
}

/// <summary>
/// Random affine transform (rotation, scale, shear, shift) plus a smooth elastic displacement field,
/// sampled bilinearly: the distortions handwriting actually has, which makes 10,000 digits go a long way.
/// A share of the images (<see cref="AugmentOptions.UploadShare"/>) is then drawn as a random upload
/// (<see cref="RandomUploads"/>) and brought back to 28x28 by the service's own preprocessing, so the network
/// trains on what real pictures look like when they reach it. One instance per thread (it owns scratch buffers).
/// </summary>
internal sealed class Augmenter
{
    private readonly AugmentOptions options;
    private readonly int height, width;
    private readonly float[] kernel;
    private readonly float[] fieldX, fieldY, temp, prepared;

    public Augmenter(AugmentOptions options, int height, int width)
    {
        this.options = options;
        this.height = height;
        this.width = width;
        kernel = GaussianKernel(options.ElasticSigma);
        fieldX = new float[height * width];
        fieldY = new float[height * width];
        temp = new float[height * width];
        prepared = new float[height * width];
    }

    public void Apply(ReadOnlySpan<float> source, Span<float> target, ref Rng rng)
    {
        var angle = rng.NextSigned() * options.MaxRotationDegrees * MathF.PI / 180;
        var scale = 1 + rng.NextSigned() * options.MaxScale;
        var shear = rng.NextSigned() * options.MaxShear;
        var shiftX = rng.NextSigned() * options.MaxShift;
        var shiftY = rng.NextSigned() * options.MaxShift;
        if (options.WholePixelShifts) (shiftX, shiftY) = (MathF.Round(shiftX), MathF.Round(shiftY));
        // Drawn only when flips are on, so the digits' random streams stay what they were.
        var flip = options.FlipShare > 0 && rng.NextFloat() < options.FlipShare;
        var elastic = options.ElasticAlpha > 0;
        if (elastic)
        {
            SmoothNoise(fieldX, ref rng);
            SmoothNoise(fieldY, ref rng);
        }

        // Map each target pixel back into the source: inverse scale, shear, rotation about the image centre.
        float cos = MathF.Cos(angle) / scale, sin = MathF.Sin(angle) / scale;
        float cx = (width - 1) / 2f, cy = (height - 1) / 2f;
        for (var y = 0; y < height; y++)
        for (var x = 0; x < width; x++)
        {
            float u = (flip ? width - 1 - x : x) - cx - shiftX, v = y - cy - shiftY;
            u += shear * v;
            var sx = cos * u + sin * v + cx;
            var sy = -sin * u + cos * v + cy;
            if (elastic)
            {
                sx += options.ElasticAlpha * fieldX[y * width + x];
                sy += options.ElasticAlpha * fieldY[y * width + x];
            }
            target[y * width + x] = Bilinear(source, sx, sy);
        }

        if (options.UploadShare > 0 && rng.NextFloat() < options.UploadShare)
        {
            var upload = UploadRenderer.Render(target, RandomUploads.Draw(ref rng), ref rng);
            ServicePreprocessing.ToModelInput(upload, prepared);
            // A picture too faint for the service to find ink in becomes blank: no digit left to learn from.
            if (prepared.AsSpan().ContainsAnyExcept(0f)) prepared.CopyTo(target);
        }
    }

    private float Bilinear(ReadOnlySpan<float> image, float x, float y)
    {
        var x0 = (int)MathF.Floor(x);
        var y0 = (int)MathF.Floor(y);
        float fx = x - x0, fy = y - y0;
        return (1 - fy) * ((1 - fx) * Pixel(image, x0, y0) + fx * Pixel(image, x0 + 1, y0))
             + fy * ((1 - fx) * Pixel(image, x0, y0 + 1) + fx * Pixel(image, x0 + 1, y0 + 1));
    }

    private float Pixel(ReadOnlySpan<float> image, int x, int y) =>
        (uint)x < (uint)width && (uint)y < (uint)height ? image[y * width + x] : 0;

    // Uniform noise blurred by a Gaussian gives a smooth field of roughly unit-scale displacements (Simard et al. 2003).
    private void SmoothNoise(float[] field, ref Rng rng)
    {
        for (var i = 0; i < field.Length; i++) temp[i] = rng.NextSigned();
        var r = kernel.Length / 2;
        for (var y = 0; y < height; y++)
        for (var x = 0; x < width; x++)
        {
            var s = 0f;
            for (var k = -r; k <= r; k++) s += kernel[k + r] * temp[y * width + Math.Clamp(x + k, 0, width - 1)];
            field[y * width + x] = s;
        }
        for (var y = 0; y < height; y++)
        for (var x = 0; x < width; x++)
        {
            var s = 0f;
            for (var k = -r; k <= r; k++) s += kernel[k + r] * field[Math.Clamp(y + k, 0, height - 1) * width + x];
            temp[y * width + x] = s;
        }
        // Renormalise to unit RMS so ElasticAlpha is the typical displacement in pixels, whatever sigma is.
        var rms = MathF.Sqrt(temp.Sum(t => t * t) / temp.Length) + 1e-6f;
        for (var i = 0; i < field.Length; i++) field[i] = temp[i] / rms;
    }

    private static float[] GaussianKernel(float sigma)
    {
        var r = Math.Max(1, (int)MathF.Ceiling(2 * sigma));
        var k = new float[2 * r + 1];
        for (var i = -r; i <= r; i++) k[i + r] = MathF.Exp(-i * i / (2 * sigma * sigma));
        var sum = k.Sum();
        for (var i = 0; i < k.Length; i++) k[i] /= sum;
        return k;
    }
}
