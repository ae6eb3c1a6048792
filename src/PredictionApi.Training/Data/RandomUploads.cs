using PredictionApi.Training.Network;
using PredictionApi.Training.Uploads;

namespace PredictionApi.Training.Data;

/// <summary>
/// Random upload styles for training, spanning what real uploads do: strokes from hairline to marker, scans
/// from 8 to 70 pixels tall (often re-enlarged), blur, faint or grey ink on grey or uneven paper, grain and noise,
/// pens that skip, digits wider or narrower than MNIST's, two-level (bitmap) scans, and now and then a light digit
/// on a dark ground or a digit in a corner of a large picture.
/// </summary>
internal static class RandomUploads
{
    public static UploadStyle Draw(ref Rng rng)
    {
        // Log-uniform: as many small scans as large photos, since the small ones lose the most.
        var scale = MathF.Exp(MathF.Log(0.3f) + rng.NextFloat() * MathF.Log(2.5f / 0.3f));
        float? through = rng.NextFloat() < 0.2f ? scale * (0.2f + 0.5f * rng.NextFloat()) : null;
        var thickness = rng.NextFloat() < 0.6f ? -0.7f + 2.5f * rng.NextFloat() : 0;
        var breaks = rng.NextFloat() < 0.15f ? 1 + rng.Next(3) : 0;
        var aspect = rng.NextFloat() < 0.3f ? MathF.Exp(0.3f * rng.NextSigned()) : 1;
        var blur = rng.NextFloat() < 0.35f ? scale * 0.9f * rng.NextFloat() : 0;
        var offCentre = rng.NextFloat() < 0.05f;
        float Margin(ref Rng r) => offCentre ? 2.5f * r.NextFloat() : 0.6f * r.NextFloat();
        float left = Margin(ref rng), top = Margin(ref rng), right = Margin(ref rng), bottom = Margin(ref rng);

        var paper = 160 + 95 * rng.NextFloat();
        var ink = (paper - 60) * rng.NextFloat();
        if (rng.NextFloat() < 0.1f)
        {
            // Chalk on a board, a dark-mode canvas: light ink on a dark ground.
            (paper, ink) = (255 - paper, 255 - ink);
        }
        return new UploadStyle
        {
            Scale = scale,
            Aspect = aspect,
            Through = through,
            Thickness = thickness,
            Breaks = breaks,
            Blur = blur,
            Left = left,
            Top = top,
            Right = right,
            Bottom = bottom,
            Paper = paper,
            Ink = ink,
            Gradient = rng.NextFloat() < 0.3f ? 60 * rng.NextFloat() : 0,
            GradientAngle = 2 * MathF.PI * rng.NextFloat(),
            Grain = rng.NextFloat() < 0.2f ? 8 * rng.NextFloat() : 0,
            Noise = rng.NextFloat() < 0.4f ? 14 * rng.NextFloat() : 0,
            Binarize = rng.NextFloat() < 0.15f ? ink + (paper - ink) * (0.3f + 0.4f * rng.NextFloat()) : null,
        };
    }
}
