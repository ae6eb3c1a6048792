using PredictionApi.Training.Network;
using PredictionApi.Training.Uploads;

namespace PredictionApi.Training.Data;

/// <summary>
/// Synthetic pictures that are not digits (filled shapes with texture, random textures, dense scribbles, scattered
/// specks), passed through the service's preprocessing. Trained towards the uniform distribution, they teach the
/// network to spread its probability over the labels for input unlike any digit instead of picking one with confidence.
/// No real data set is used, so evaluation on real non-digit images stays independent.
/// </summary>
internal static class NonDigits
{
    private const int Side = 28;

    /// <summary>Writes one random non-digit model input (28x28, 0..1) into <paramref name="target"/>.</summary>
    public static void Generate(Span<float> target, ref Rng rng)
    {
        var image = rng.Next(4) switch
        {
            0 => Shapes(ref rng),
            1 => Texture(ref rng),
            2 => Scribble(ref rng),
            _ => Specks(ref rng),
        };
        ServicePreprocessing.ToModelInput(image, target);
    }

    /// <summary>One to three large filled shapes, shaded and textured, light on dark like a product photo in MNIST format.</summary>
    private static GrayImage Shapes(ref Rng rng)
    {
        var light = new float[Side * Side];
        var count = 1 + rng.Next(3);
        for (var s = 0; s < count; s++)
        {
            float cx = 14 + 6 * rng.NextSigned(), cy = 14 + 6 * rng.NextSigned();
            float rx = 5 + 9 * rng.NextFloat(), ry = 5 + 9 * rng.NextFloat();
            float level = 0.35f + 0.65f * rng.NextFloat(), angle = MathF.PI * rng.NextFloat();
            var box = rng.Next(2) == 0;
            float cos = MathF.Cos(angle), sin = MathF.Sin(angle);
            for (var y = 0; y < Side; y++)
            for (var x = 0; x < Side; x++)
            {
                float u = ((x - cx) * cos + (y - cy) * sin) / rx, v = (-(x - cx) * sin + (y - cy) * cos) / ry;
                var inside = box ? MathF.Max(MathF.Abs(u), MathF.Abs(v)) <= 1 : u * u + v * v <= 1;
                if (inside) light[y * Side + x] = MathF.Max(light[y * Side + x], level * (0.8f + 0.2f * v));
            }
        }
        var texture = Filters.SmoothNoise(Side, Side, 1 + 2 * rng.NextFloat(), ref rng);
        var amount = 0.4f * rng.NextFloat();
        return FromLight(light, Side, Side, (i, v) => v * (1 - amount + amount * Math.Clamp(0.5f + 0.5f * texture[i], 0, 1)));
    }

    /// <summary>A smooth random pattern over most of the frame (fabric, foliage, a blurry photo).</summary>
    private static GrayImage Texture(ref Rng rng)
    {
        var field = Filters.SmoothNoise(Side, Side, 0.8f + 2.5f * rng.NextFloat(), ref rng);
        var threshold = rng.NextSigned() * 0.8f;
        var light = new float[Side * Side];
        for (var i = 0; i < light.Length; i++) light[i] = Math.Clamp(0.5f + 0.6f * (field[i] - threshold), 0, 1);
        return FromLight(light, Side, Side, (_, v) => v);
    }

    /// <summary>Five to twelve connected strokes in random directions, dark on light paper: a scribble, not a digit.</summary>
    private static GrayImage Scribble(ref Rng rng)
    {
        const int size = 56;
        var strokes = 5 + rng.Next(8);
        var width = 2 + 4 * rng.NextFloat();
        var points = new (float X, float Y)[strokes + 1];
        points[0] = (8 + 40 * rng.NextFloat(), 8 + 40 * rng.NextFloat());
        for (var i = 1; i <= strokes; i++) points[i] = (8 + 40 * rng.NextFloat(), 8 + 40 * rng.NextFloat());
        var ink = new float[size * size];
        for (var y = 0; y < size; y++)
        for (var x = 0; x < size; x++)
        {
            var d = float.MaxValue;
            for (var i = 0; i < strokes; i++) d = MathF.Min(d, Distance(x, y, points[i], points[i + 1]));
            ink[y * size + x] = Math.Clamp(width / 2 - d + 0.5f, 0, 1);
        }
        var image = new GrayImage(size, size);
        float paper = 190 + 65 * rng.NextFloat(), level = 80 * rng.NextFloat();
        for (var i = 0; i < ink.Length; i++) image.Pixels[i] = paper + ink[i] * (level - paper);
        return image.Quantize();
    }

    /// <summary>Many small spots scattered over the frame (dust, a dotted pattern).</summary>
    private static GrayImage Specks(ref Rng rng)
    {
        var light = new float[Side * Side];
        var count = 8 + rng.Next(25);
        for (var s = 0; s < count; s++)
        {
            float cx = 3 + 22 * rng.NextFloat(), cy = 3 + 22 * rng.NextFloat(), r = 0.7f + 1.8f * rng.NextFloat();
            for (var y = 0; y < Side; y++)
            for (var x = 0; x < Side; x++)
            {
                var d = MathF.Sqrt((x - cx) * (x - cx) + (y - cy) * (y - cy));
                light[y * Side + x] = MathF.Max(light[y * Side + x], Math.Clamp(r - d + 0.5f, 0, 1));
            }
        }
        return FromLight(light, Side, Side, (_, v) => v);
    }

    private static GrayImage FromLight(float[] light, int width, int height, Func<int, float, float> shade)
    {
        var image = new GrayImage(width, height);
        for (var i = 0; i < light.Length; i++) image.Pixels[i] = 255 * shade(i, light[i]);
        return image.Quantize();
    }

    private static float Distance(float x, float y, (float X, float Y) a, (float X, float Y) b)
    {
        float dx = b.X - a.X, dy = b.Y - a.Y;
        var t = Math.Clamp(((x - a.X) * dx + (y - a.Y) * dy) / (dx * dx + dy * dy + 1e-6f), 0, 1);
        float ex = a.X + t * dx - x, ey = a.Y + t * dy - y;
        return MathF.Sqrt(ex * ex + ey * ey);
    }
}
