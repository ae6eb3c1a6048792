using PredictionApi.Mnist;
using SkiaSharp;

namespace PredictionApi.Bench;

/// <summary>Writes the first digits of an IDX file as 8-bit grayscale PNGs, named 00000.png, 00001.png, ...</summary>
internal static class PngWriter
{
    public static int Write(string imagesPath, string outDir, int count)
    {
        var images = IdxFile.ReadImages(imagesPath);
        count = Math.Min(count, images.Count);
        Directory.CreateDirectory(outDir);
        var info = new SKImageInfo(images.Columns, images.Rows, SKColorType.Gray8, SKAlphaType.Opaque);
        for (var i = 0; i < count; i++)
        {
            using var bitmap = new SKBitmap(info);
            images.Image(i).CopyTo(bitmap.GetPixelSpan());
            using var png = bitmap.Encode(SKEncodedImageFormat.Png, 100);
            File.WriteAllBytes(Path.Combine(outDir, $"{i:D5}.png"), png.ToArray());
        }
        Console.WriteLine($"wrote {count} PNG files to {outDir}");
        return 0;
    }
}
