using SkiaSharp;

namespace PredictionApi.Training.Uploads;

/// <summary>A JPEG round trip through Skia, the codec the service decodes uploads with.</summary>
internal static class Jpeg
{
    public static GrayImage RoundTrip(GrayImage image, int quality)
    {
        var info = new SKImageInfo(image.Width, image.Height, SKColorType.Gray8, SKAlphaType.Opaque);
        using var bitmap = new SKBitmap(info);
        var pixels = bitmap.GetPixelSpan();
        for (var y = 0; y < image.Height; y++)
        for (var x = 0; x < image.Width; x++)
            pixels[y * bitmap.RowBytes + x] = (byte)Math.Clamp(MathF.Round(image.Pixels[y * image.Width + x]), 0, 255);

        using var data = bitmap.Encode(SKEncodedImageFormat.Jpeg, quality);
        using var decoded = SKBitmap.Decode(data, new SKImageInfo(image.Width, image.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        var result = new GrayImage(image.Width, image.Height);
        var rgba = decoded.GetPixelSpan();
        for (var y = 0; y < image.Height; y++)
        for (var x = 0; x < image.Width; x++)
        {
            var p = rgba.Slice(y * decoded.RowBytes + 4 * x, 4);
            // Rec. 601 luminance with the service's integer weights.
            result.Pixels[y * image.Width + x] = (299f * p[0] + 587f * p[1] + 114f * p[2]) / 1000f;
        }
        return result;
    }
}
