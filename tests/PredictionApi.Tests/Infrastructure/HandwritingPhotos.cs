using SkiaSharp;

namespace PredictionApi.Tests.Infrastructure;

/// <summary>How an MNIST digit is turned into the picture a user would upload of it.</summary>
public sealed record HandwritingStyle
{
    public int Width { get; init; } = 1200;

    public int Height { get; init; } = 1200;

    /// <summary>Side of the digit's 28x28 MNIST frame in the picture, in pixels (the ink itself spans about 20/28 of it).</summary>
    public float FrameSize { get; init; } = 400;

    /// <summary>How far the digit's centre may stray from the picture's centre, as a share of the picture.</summary>
    public float OffCentre { get; init; }

    /// <summary>Largest rotation either way, in degrees.</summary>
    public float Rotation { get; init; }

    /// <summary>Pixels added to (marker) or taken from (thin pen) each side of a stroke, at picture scale.</summary>
    public float StrokeChange { get; init; }

    public SKColor Paper { get; init; } = new(245, 243, 238);

    public SKColor Ink { get; init; } = new(25, 25, 30);

    /// <summary>Light reaching the darkest corner as a share of the brightest (1: even light).</summary>
    public float Shadow { get; init; } = 1;

    /// <summary>Standard deviation of paper grain and sensor noise, in levels of 255.</summary>
    public float Noise { get; init; }

    /// <summary>Gaussian sigma of the camera's blur, in pixels.</summary>
    public float Blur { get; init; }

    /// <summary>Thickness of a dark line drawn all around the picture (a scanner's frame, a printed box); 0 for none.</summary>
    public int Border { get; init; }

    /// <summary>How far in from the picture's edges that line lies, in pixels.</summary>
    public int BorderInset { get; init; }

    /// <summary>Share of the picture, along one side chosen by the seed, beyond the paper's edge (a dark table).</summary>
    public float Table { get; init; }

    /// <summary>Distance between the ruled lines of lined paper, in pixels; 0 for plain paper.</summary>
    public int Rules { get; init; }

    /// <summary>Thickness of the ruled lines, in pixels.</summary>
    public int RuleWidth { get; init; } = 2;

    /// <summary>The ruled lines' colour.</summary>
    public SKColor RuleColour { get; init; } = new(150, 185, 225);

    /// <summary>Squared paper: the rules run both ways.</summary>
    public bool Squared { get; init; }

    /// <summary>JPEG quality; 0 for PNG.</summary>
    public int JpegQuality { get; init; }

    /// <summary>A canvas app's export: the ink colour over a transparent ground (PNG).</summary>
    public bool Transparent { get; init; }

    /// <summary>EXIF orientation written into the JPEG (the pixels are stored turned so that it displays upright); 1 for none.</summary>
    public int ExifOrientation { get; init; } = 1;
}

/// <summary>
/// MNIST test digits drawn as people send them: written on paper (or a canvas) larger, off centre, slightly turned, under
/// uneven light, photographed with noise and blur and saved as JPEG. Deterministic for a seed.
/// </summary>
public static class HandwritingPhotos
{
    public static byte[] Render(ReadOnlySpan<byte> digit, HandwritingStyle style, int seed)
    {
        var random = new Random(seed);
        var (w, h) = (style.Width, style.Height);
        var ink = InkMask(digit, style, random);
        var light = Lighting(style, random);
        var beyond = Beyond(style, random);

        var rgba = new byte[w * h * 4];
        for (var y = 0; y < h; y++)
        {
            for (var x = 0; x < w; x++)
            {
                var i = y * w + x;
                var a = ink[i] / 255f;
                if (style.Transparent)
                {
                    (rgba[4 * i], rgba[4 * i + 1], rgba[4 * i + 2], rgba[4 * i + 3]) = (style.Ink.Red, style.Ink.Green, style.Ink.Blue, ink[i]);
                    continue;
                }

                var l = light(x, y);
                var grain = style.Noise > 0 ? style.Noise * Grain[random.Next(Grain.Length)] : 0;
                if (beyond(x, y) is { } dark)
                {
                    var d = (byte)Math.Clamp(MathF.Round(dark * l + grain), 0, 255);
                    (rgba[4 * i], rgba[4 * i + 1], rgba[4 * i + 2], rgba[4 * i + 3]) = (d, d, d, 255);
                    continue;
                }

                var paper = Ruled(style, x, y) ? style.RuleColour : style.Paper;
                rgba[4 * i] = Mix(paper.Red, style.Ink.Red, a, l, grain);
                rgba[4 * i + 1] = Mix(paper.Green, style.Ink.Green, a, l, grain);
                rgba[4 * i + 2] = Mix(paper.Blue, style.Ink.Blue, a, l, grain);
                rgba[4 * i + 3] = 255;
            }
        }

        using var bitmap = new SKBitmap(new SKImageInfo(w, h, SKColorType.Rgba8888, style.Transparent ? SKAlphaType.Unpremul : SKAlphaType.Opaque));
        rgba.CopyTo(bitmap.GetPixelSpan());
        using var blurred = style.Blur > 0 ? Filter(bitmap, SKImageFilter.CreateBlur(style.Blur, style.Blur, SKShaderTileMode.Clamp, null)) : null;
        var picture = blurred ?? bitmap;
        using var stored = style.ExifOrientation == 6 ? TurnForOrientation6(picture) : null;
        using var data = (stored ?? picture).Encode(style.JpegQuality > 0 ? SKEncodedImageFormat.Jpeg : SKEncodedImageFormat.Png, style.JpegQuality > 0 ? style.JpegQuality : 100);
        var bytes = data.ToArray();
        return style.ExifOrientation == 6 ? WithOrientation6(bytes) : bytes;
    }

    private static byte Mix(byte paper, byte ink, float a, float light, float grain) =>
        (byte)Math.Clamp(MathF.Round((paper * (1 - a) + ink * a) * light + grain), 0, 255);

    /// <summary>The digit's ink (0..255) at picture size: enlarged smoothly, turned, placed, strokes thinned or thickened.</summary>
    private static byte[] InkMask(ReadOnlySpan<byte> digit, HandwritingStyle style, Random random)
    {
        var (w, h) = (style.Width, style.Height);
        using var source = new SKBitmap(new SKImageInfo(28, 28, SKColorType.Rgba8888, SKAlphaType.Opaque));
        var px = source.GetPixelSpan();
        for (var i = 0; i < 784; i++)
        {
            (px[4 * i], px[4 * i + 1], px[4 * i + 2], px[4 * i + 3]) = (digit[i], digit[i], digit[i], 255);
        }

        using var image = SKImage.FromBitmap(source);
        using var surface = SKSurface.Create(new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Premul));
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.Black);
        // The ink spans about 20 of the frame's 28 pixels: that much must stay in the picture.
        var half = style.FrameSize * 10 / 28;
        var cx = w / 2f + (float)(random.NextDouble() * 2 - 1) * style.OffCentre * w;
        var cy = h / 2f + (float)(random.NextDouble() * 2 - 1) * style.OffCentre * h;
        cx = Math.Clamp(cx, half, w - half);
        cy = Math.Clamp(cy, half, h - half);
        canvas.Translate(cx, cy);
        canvas.RotateDegrees((float)(random.NextDouble() * 2 - 1) * style.Rotation);
        canvas.Scale(style.FrameSize / 28f);
        canvas.Translate(-14, -14);
        canvas.DrawImage(image, 0, 0, new SKSamplingOptions(SKCubicResampler.Mitchell));
        canvas.ResetMatrix();

        using var drawn = surface.Snapshot();
        using var mask = SKBitmap.FromImage(drawn);
        var pixels = mask.GetPixelSpan();
        var result = new byte[w * h];
        for (var i = 0; i < result.Length; i++)
        {
            // A pen lays ink down fully: the enlarged MNIST gradient becomes a stroke with a short soft edge.
            result[i] = (byte)Math.Clamp((pixels[4 * i] - 64) * 2, 0, 255);
        }

        if (style.StrokeChange != 0)
        {
            Morph(result, w, h, (int)MathF.Abs(style.StrokeChange), style.StrokeChange > 0);
        }

        return result;
    }

    /// <summary>Square dilation (grow) or erosion of radius <paramref name="r"/>, one axis after the other (van Herk's running extremes).</summary>
    private static void Morph(byte[] plane, int w, int h, int r, bool grow)
    {
        var size = 2 * r + 1;
        var padded = (Math.Max(w, h) + 2 * r + size - 1) / size * size;
        var (p, forward, backward) = (new byte[padded], new byte[padded], new byte[padded]);
        var neutral = grow ? (byte)0 : (byte)255;
        for (var pass = 0; pass < 2; pass++)
        {
            var (n, lines, step, stride) = pass == 0 ? (w, h, 1, w) : (h, w, w, 1);
            for (var l = 0; l < lines; l++)
            {
                Array.Fill(p, neutral);
                for (var k = 0; k < n; k++)
                {
                    p[k + r] = plane[l * stride + k * step];
                }

                for (var i = 0; i < padded; i++)
                {
                    forward[i] = i % size == 0 ? p[i] : Pick(forward[i - 1], p[i], grow);
                }

                for (var i = padded - 1; i >= 0; i--)
                {
                    backward[i] = (i + 1) % size == 0 ? p[i] : Pick(backward[i + 1], p[i], grow);
                }

                for (var k = 0; k < n; k++)
                {
                    plane[l * stride + k * step] = Pick(backward[k], forward[k + 2 * r], grow);
                }
            }
        }
    }

    private static byte Pick(byte a, byte b, bool grow) => grow ? Math.Max(a, b) : Math.Min(a, b);

    /// <summary>Whether a pixel lies on a ruled line (ink is written over the lines).</summary>
    private static bool Ruled(HandwritingStyle style, int x, int y) =>
        style.Rules > 0 && (y % style.Rules < style.RuleWidth || (style.Squared && x % style.Rules < style.RuleWidth));

    /// <summary>The grey level of what is not paper at a pixel (the frame's line, the table), or null on paper.</summary>
    private static Func<int, int, float?> Beyond(HandwritingStyle style, Random random)
    {
        var (w, h) = (style.Width, style.Height);
        var side = random.Next(4);
        var depth = (int)(style.Table * (side < 2 ? w : h));
        return (x, y) =>
        {
            var edge = Math.Min(Math.Min(x, w - 1 - x), Math.Min(y, h - 1 - y));
            if (style.Border > 0 && edge >= style.BorderInset && edge < style.BorderInset + style.Border)
            {
                return 40;
            }

            var fromSide = side switch { 0 => x, 1 => w - 1 - x, 2 => y, _ => h - 1 - y };
            return fromSide < depth ? 60 : null;
        };
    }

    /// <summary>A linear fall of light in a random direction, from 1 at the brightest corner to <see cref="HandwritingStyle.Shadow"/>.</summary>
    private static Func<int, int, float> Lighting(HandwritingStyle style, Random random)
    {
        var angle = random.NextDouble() * 2 * Math.PI;
        var (dx, dy) = ((float)Math.Cos(angle), (float)Math.Sin(angle));
        var corners = new[] { 0f, dx * style.Width, dy * style.Height, dx * style.Width + dy * style.Height };
        var (lo, hi) = (corners.Min(), corners.Max());
        var fall = 1 - style.Shadow;
        return (x, y) => 1 - fall * ((dx * x + dy * y - lo) / (hi - lo));
    }

    // Standard normal samples, drawn once: per-pixel logarithms would dominate a 7-megapixel picture's cost.
    private static readonly float[] Grain = [.. Enumerable.Range(0, 1 << 16).Select(i => Gaussian(new Random(i)))];

    private static float Gaussian(Random random) =>
        (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));

    private static SKBitmap Filter(SKBitmap bitmap, SKImageFilter filter)
    {
        using (filter)
        using (var surface = SKSurface.Create(new SKImageInfo(bitmap.Width, bitmap.Height, SKColorType.Rgba8888, SKAlphaType.Premul)))
        using (var paint = new SKPaint { ImageFilter = filter })
        using (var image = SKImage.FromBitmap(bitmap))
        {
            surface.Canvas.Clear(SKColors.Transparent);
            surface.Canvas.DrawImage(image, 0, 0, SKSamplingOptions.Default, paint);
            using var snapshot = surface.Snapshot();
            return SKBitmap.FromImage(snapshot);
        }
    }

    /// <summary>The pixels as a camera stores them for EXIF orientation 6: turned a quarter anticlockwise.</summary>
    private static SKBitmap TurnForOrientation6(SKBitmap upright)
    {
        var turned = new SKBitmap(new SKImageInfo(upright.Height, upright.Width, SKColorType.Rgba8888, SKAlphaType.Opaque));
        using var canvas = new SKCanvas(turned);
        canvas.Translate(0, upright.Width);
        canvas.RotateDegrees(-90);
        using var image = SKImage.FromBitmap(upright);
        canvas.DrawImage(image, 0, 0, SKSamplingOptions.Default);
        return turned;
    }

    /// <summary>The JPEG with an APP1 Exif segment saying "rotate 90 degrees clockwise to display" (orientation 6).</summary>
    private static byte[] WithOrientation6(byte[] jpeg)
    {
        byte[] app1 =
        [
            0xFF, 0xE1, 0x00, 0x22, (byte)'E', (byte)'x', (byte)'i', (byte)'f', 0, 0,
            (byte)'I', (byte)'I', 0x2A, 0x00, 0x08, 0x00, 0x00, 0x00,
            0x01, 0x00, 0x12, 0x01, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x06, 0x00, 0x00, 0x00,
            0x00, 0x00, 0x00, 0x00,
        ];
        return [.. jpeg[..2], .. app1, .. jpeg[2..]];
    }
}
