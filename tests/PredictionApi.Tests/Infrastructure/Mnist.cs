using PredictionApi.Mnist;
using PredictionApi.Tests.Infrastructure;

// In the root test namespace so every test folder finds it before the PredictionApi.Mnist namespace.
namespace PredictionApi.Tests;

/// <summary>The MNIST test images, read once per test run.</summary>
public static class Mnist
{
    private static readonly Lazy<(IdxImages Images, byte[] Labels)> T10k = new(() => IdxFile.ReadLabelled(RepoPaths.T10kImages, RepoPaths.T10kLabels));

    public static IdxImages Images => T10k.Value.Images;

    public static byte[] Labels => T10k.Value.Labels;

    /// <summary>Test image <paramref name="index"/> as an 8-bit grayscale PNG, pixels untouched.</summary>
    public static byte[] Png(int index) => TestImages.PngGray8(28, 28, Images.Image(index));
}
