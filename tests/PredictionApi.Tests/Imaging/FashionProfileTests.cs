using Microsoft.Extensions.Options;
using PredictionApi.Imaging;

namespace PredictionApi.Tests.Imaging;

/// <summary>The fashion profile on hand-made pictures: known images in, exactly known tensors out.</summary>
public sealed class FashionProfileTests
{
    private static readonly ImagePreprocessor Preprocessor = new(Options.Create(new ImagingOptions()));

    private static readonly InputSpec FashionSpec = new()
    {
        Name = "input", Layout = TensorLayout.NCHW, Height = 28, Width = 28, Channels = 1, Profile = PreprocessProfile.Fashion,
    };

    private static float[] Run(byte[] file)
    {
        var tensor = new float[FashionSpec.TensorLength];
        Preprocessor.Preprocess(file, FashionSpec, tensor);
        return tensor;
    }

    private static byte[] Canvas(int width, int height, byte background, int x, int y, int w, int h, byte level)
    {
        var pixels = new byte[width * height];
        Array.Fill(pixels, background);
        for (var r = y; r < y + h; r++)
        {
            pixels.AsSpan(r * width + x, w).Fill(level);
        }

        return pixels;
    }

    [Fact]
    public void AnImageAlreadyInFashionMnistFormPassesThroughExactly()
    {
        var pixels = Enumerable.Range(0, 784).Select(i => (byte)(i % 28 is > 3 and < 24 ? 40 + i % 200 : 0)).ToArray();
        Assert.Equal(pixels.Select(p => p / 255f), Run(TestImages.PngGray8(28, 28, pixels)));
    }

    [Fact]
    public void ADarkObjectOnOffWhiteIsInvertedCroppedFittedTo28AndCentred()
    {
        // A black 30x60 object on a 160x100 canvas of level 240: box 30x60 -> 14x28, centred at left (28 - 14) / 2 = 7.
        // The background (240, inverted 15) becomes 0 and black stays 255 (sharpening cannot go beyond either).
        var tensor = Run(TestImages.PngGray8(160, 100, Canvas(160, 100, 240, 100, 25, 30, 60, 0)));

        for (var y = 0; y < 28; y++)
        {
            for (var x = 0; x < 28; x++)
            {
                var inside = x is >= 7 and < 21;
                Assert.True(Math.Abs(tensor[y * 28 + x] - (inside ? 1f : 0f)) < 1e-5f, $"pixel ({x},{y}) is {tensor[y * 28 + x]}");
            }
        }
    }

    [Fact]
    public void ALightGreyObjectStaysFaintAsInFashionMnist()
    {
        // Level 200 on white is 55 once inverted: the white point moves, the object is not stretched to 255.
        var tensor = Run(TestImages.PngGray8(120, 90, Canvas(120, 90, 255, 20, 10, 80, 40, 200)));

        // An 80x40 box fills the width: 28x14, rows 7..20. Away from its edges (which the sharpening after
        // shrinking brightens) the object keeps its level.
        Assert.Equal(55 / 255f, tensor[14 * 28 + 14], 1e-5f);
        Assert.Equal(55 / 255f, tensor[10 * 28 + 4], 1e-5f);
        Assert.Equal(0f, tensor[0]);
        Assert.Equal(0f, tensor[6 * 28 + 14]);
        Assert.True(tensor[7 * 28 + 14] > 55 / 255f, "the shrunk object's edge is sharpened");
    }

    [Fact]
    public void AnObjectTouchingTheBorderStillLeavesTheBackgroundBlack()
    {
        // Trousers cropped at the bottom of the photo: the object covers part of the border ring,
        // which the median ignores; a mean would take it for grey paper.
        var tensor = Run(TestImages.PngGray8(100, 100, Canvas(100, 100, 250, 30, 20, 40, 80, 10)));

        Assert.Equal(0f, tensor[0]);
        Assert.Equal((250 - 10) / 250f, tensor[14 * 28 + 14], 1e-5f);
    }

    [Fact]
    public void APictureWithoutAnObjectIsBlank()
    {
        var noisy = Enumerable.Range(0, 64 * 48).Select(i => (byte)(245 + i % 5)).ToArray();
        Assert.All(Run(TestImages.PngGray8(64, 48, noisy)), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void TheSameObjectLightOnDarkOrDarkOnLightGivesTheSameTensor()
    {
        var light = Canvas(90, 120, 255, 30, 25, 12, 70, 0);
        var dark = light.Select(p => (byte)(255 - p)).ToArray();
        Assert.Equal(Run(TestImages.PngGray8(90, 120, light)), Run(TestImages.PngGray8(90, 120, dark)));
    }
}
