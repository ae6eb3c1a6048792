using PredictionApi.Mnist;

namespace PredictionApi.Tests.Infrastructure;

/// <summary>
/// The Fashion-MNIST test images from Debian's dataset-fashion-mnist package, read once per test run.
/// Tests that need them use <see cref="FashionFactAttribute"/>: skipped without the package, failed under CI.
/// </summary>
public static class FashionMnist
{
    public const string Directory = "/usr/share/datasets/fashion-mnist";

    public static string ImagesPath => Path.Combine(Directory, "t10k-images-idx3-ubyte.gz");

    public static string LabelsPath => Path.Combine(Directory, "t10k-labels-idx1-ubyte.gz");

    public static bool Installed => File.Exists(ImagesPath) && File.Exists(LabelsPath);

    public static bool RunningOnCi =>
        string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    private static readonly Lazy<(IdxImages Images, byte[] Labels)> T10k = new(() => Installed
        ? IdxFile.ReadLabelled(ImagesPath, LabelsPath)
        : throw new FileNotFoundException($"{ImagesPath} is missing: install it with 'apt-get install -y dataset-fashion-mnist' (.ci/run does)."));

    public static IdxImages Images => T10k.Value.Images;

    public static byte[] Labels => T10k.Value.Labels;

    /// <summary>Test image <paramref name="index"/> as an 8-bit grayscale PNG, pixels untouched (light on black, 28x28).</summary>
    public static byte[] Png(int index) => TestImages.PngGray8(28, 28, Images.Image(index));
}

/// <summary>
/// A fact that needs the Debian package dataset-fashion-mnist. Without it the test is skipped with the reason,
/// except on CI (CI=true), where the missing files must fail the test instead of passing silently.
/// </summary>
public sealed class FashionFactAttribute : FactAttribute
{
    public FashionFactAttribute()
    {
        if (!FashionMnist.Installed && !FashionMnist.RunningOnCi)
        {
            Skip = $"{FashionMnist.ImagesPath} is missing: install the Debian package 'dataset-fashion-mnist' to run the fashion model tests.";
        }
    }
}

/// <summary>Fashion-MNIST images drawn as a shop would photograph them: a dark object on a light, larger canvas.</summary>
public static class ProductPhotos
{
    /// <summary>
    /// The 28x28 light-on-black <paramref name="image"/> enlarged <paramref name="scale"/> times (bilinear), drawn
    /// dark on a <paramref name="width"/> x <paramref name="height"/> canvas of level <paramref name="background"/>
    /// with its top-left corner at (<paramref name="left"/>, <paramref name="top"/>): an object of Fashion-MNIST
    /// intensity v darkens the background to background x (1 - v / 255), as ink over paper does.
    /// </summary>
    public static byte[] Render(ReadOnlySpan<byte> image, int scale, int width, int height, int left, int top, byte background)
    {
        var pixels = new byte[width * height];
        Array.Fill(pixels, background);
        var size = 28 * scale;
        for (var y = 0; y < size; y++)
        {
            // Pixel centres map back into the source; edges clamp, as most resamplers do.
            var sy = Math.Clamp((y + 0.5f) / scale - 0.5f, 0, 27);
            int y0 = (int)sy, y1 = Math.Min(y0 + 1, 27);
            var fy = sy - y0;
            for (var x = 0; x < size; x++)
            {
                var sx = Math.Clamp((x + 0.5f) / scale - 0.5f, 0, 27);
                int x0 = (int)sx, x1 = Math.Min(x0 + 1, 27);
                var fx = sx - x0;
                var v = (1 - fy) * ((1 - fx) * image[y0 * 28 + x0] + fx * image[y0 * 28 + x1])
                      + fy * ((1 - fx) * image[y1 * 28 + x0] + fx * image[y1 * 28 + x1]);
                pixels[(top + y) * width + left + x] = (byte)MathF.Round(background * (1 - v / 255f));
            }
        }

        return pixels;
    }
}
