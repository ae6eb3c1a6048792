using Microsoft.Extensions.Options;
using PredictionApi.Imaging;
using SkiaSharp;

namespace PredictionApi.Tests.Imaging;

/// <summary>Golden tensors: known images in, exactly known tensors out.</summary>
public sealed class PreprocessingTests
{
    private static readonly ImagePreprocessor Preprocessor = new(Options.Create(new ImagingOptions()));

    private static float[] Run(byte[] file, InputSpec spec)
    {
        var tensor = new float[spec.TensorLength];
        Preprocessor.Preprocess(file, spec, tensor);
        return tensor;
    }

    [Fact]
    public void AnMnistImagePassesThroughExactly()
    {
        for (var i = 0; i < 20; i++)
        {
            var expected = Mnist.Images.Image(i).ToArray().Select(p => p / 255f).ToArray();
            Assert.Equal(expected, Run(Mnist.Png(i), MnistInput.Spec));
        }
    }

    [Fact]
    public void ADarkBarOnWhiteIsInvertedCroppedFittedTo20AndCentredByMass()
    {
        // 100x100 white canvas with a black 30x60 bar: ink box 30x60 -> fitted 10x20 (20/60 scale),
        // centre of mass (5, 10) -> placed at left 14 - 5 = 9, top 14 - 10 = 4.
        var file = TestImages.PngGray8(100, 100, TestImages.DarkBarOnWhite(100, 100, 40, 20, 30, 60));
        var tensor = Run(file, MnistInput.Spec);

        for (var y = 0; y < 28; y++)
        {
            for (var x = 0; x < 28; x++)
            {
                var inside = y is >= 4 and < 24 && x is >= 9 and < 19;
                Assert.True(Math.Abs(tensor[y * 28 + x] - (inside ? 1f : 0f)) < 1e-5f, $"pixel ({x},{y}) is {tensor[y * 28 + x]}");
            }
        }
    }

    [Fact]
    public void TheSameDigitLightOnDarkOrDarkOnLightGivesTheSameTensor()
    {
        var dark = TestImages.DarkBarOnWhite(90, 120, 30, 25, 12, 70);
        var light = dark.Select(p => (byte)(255 - p)).ToArray();
        Assert.Equal(Run(TestImages.PngGray8(90, 120, dark), MnistInput.Spec), Run(TestImages.PngGray8(90, 120, light), MnistInput.Spec));
    }

    [Fact]
    public void TransparencyIsCompositedOnTheBackgroundNotDropped()
    {
        // Black ink on a fully transparent canvas (as a canvas export looks): on the white background
        // it is the same picture as black ink on white.
        var gray = TestImages.DarkBarOnWhite(64, 64, 20, 10, 10, 40);
        var rgba = new byte[64 * 64 * 4];
        for (var i = 0; i < gray.Length; i++)
        {
            rgba[i * 4 + 3] = (byte)(gray[i] == 0 ? 255 : 0);
        }

        Assert.Equal(Run(TestImages.PngGray8(64, 64, gray), MnistInput.Spec), Run(TestImages.PngRgba(64, 64, rgba), MnistInput.Spec));
        // Dropping alpha would have left a black square with nothing to find.
        Assert.True(Run(TestImages.PngRgba(64, 64, rgba), MnistInput.Spec).Max() > 0.99f);
    }

    [Fact]
    public void SixteenBitGifBmpAndLosslessWebpDecodeToTheSamePixels()
    {
        var pixels = Mnist.Images.Image(3).ToArray();
        var expected = Run(Mnist.Png(3), MnistInput.Spec);
        Assert.Equal(expected, Run(TestImages.PngGray16(28, 28, pixels.Select(p => (ushort)(p * 257)).ToArray()), MnistInput.Spec));
        Assert.Equal(expected, Run(TestImages.BmpGray(28, 28, pixels), MnistInput.Spec));
        Assert.Equal(expected, Run(TestImages.GifGray(28, 28, pixels), MnistInput.Spec));
        Assert.Equal(expected, Run(TestImages.SkiaEncodeGray(28, 28, pixels, SKEncodedImageFormat.Webp), MnistInput.Spec));
    }

    [Fact]
    public void AJpegComesCloseToItsSourcePixels()
    {
        var pixels = Mnist.Images.Image(8).ToArray();
        var tensor = Run(TestImages.SkiaEncodeGray(28, 28, pixels, SKEncodedImageFormat.Jpeg, 95), MnistInput.Spec);
        var error = tensor.Zip(pixels, (t, p) => Math.Abs(t - p / 255f)).Average();
        Assert.True(error < 0.03, $"mean error {error}");
    }

    [Fact]
    public void AnAnimatedGifIsReadFromItsFirstFrame()
    {
        var first = Mnist.Images.Image(0).ToArray();
        var second = Mnist.Images.Image(1).ToArray();
        var tensor = Run(TestImages.GifGray(28, 28, first, second), MnistInput.Spec);
        Assert.Equal(first.Select(p => p / 255f), tensor);
    }

    [Fact]
    public void ABlankImageGivesABlankTensor()
    {
        var white = Enumerable.Repeat((byte)255, 50 * 50).ToArray();
        Assert.All(Run(TestImages.PngGray8(50, 50, white), MnistInput.Spec), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void NhwcColourWithStandardScalingAndBgrOrderIsLaidOutExactly()
    {
        // A 2x2 RGB image kept at 2x2 (stretch to the same size is exact).
        byte[] rgb = [255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30];
        var spec = new InputSpec
        {
            Name = "x", Layout = TensorLayout.NHWC, Height = 2, Width = 2, Channels = 3, Bgr = true,
            Scaling = PixelScaling.Standard, Mean = [0.5f, 0.25f, 0f], Std = [0.5f, 0.25f, 1f],
        };
        var tensor = Run(TestImages.PngRgb(2, 2, rgb), spec);

        // Channel c of the tensor is B, G, R; each value (v / 255 - mean[c]) / std[c].
        var expected = new List<float>();
        for (var p = 0; p < 4; p++)
        {
            var (r, g, b) = (rgb[p * 3], rgb[p * 3 + 1], rgb[p * 3 + 2]);
            expected.Add((b / 255f - 0.5f) / 0.5f);
            expected.Add((g / 255f - 0.25f) / 0.25f);
            expected.Add((r / 255f - 0f) / 1f);
        }

        Assert.Equal(expected, tensor);
    }

    [Fact]
    public void NchwRawScalingKeepsPixelValuesPlaneByPlane()
    {
        byte[] rgb = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
        var spec = new InputSpec { Name = "x", Layout = TensorLayout.NCHW, Height = 2, Width = 2, Channels = 3, Scaling = PixelScaling.Raw };
        Assert.Equal([1f, 4, 7, 10, 2, 5, 8, 11, 3, 6, 9, 12], Run(TestImages.PngRgb(2, 2, rgb), spec));
    }

    [Fact]
    public void FitPadsWithTheBackgroundAndCropCutsTheCentre()
    {
        // 4x2 image: left half black, right half white; the target is 2x2.
        byte[] gray = [0, 0, 255, 255, 0, 0, 255, 255];
        var fit = new InputSpec { Name = "x", Layout = TensorLayout.NCHW, Height = 2, Width = 2, Channels = 1, Scaling = PixelScaling.Raw, Resize = ResizeMode.Fit, Background = new Rgb(100, 100, 100) };
        // Fitted to 2x1 (one black, one white pixel) in the middle row... of a 2-row target: row 0 is it, row 1 is padding.
        var fitted = Run(TestImages.PngGray8(4, 2, gray), fit);
        Assert.Equal([0f, 255, 100, 100], fitted.Select(v => MathF.Round(v, 3)));

        var crop = fit with { Resize = ResizeMode.Crop };
        // The centre 2x2 of the 4x2 image: one black column, one white column.
        Assert.Equal([0f, 255, 0, 255], Run(TestImages.PngGray8(4, 2, gray), crop).Select(v => MathF.Round(v, 3)));

        var stretch = fit with { Resize = ResizeMode.Stretch };
        Assert.Equal([0f, 255, 0, 255], Run(TestImages.PngGray8(4, 2, gray), stretch).Select(v => MathF.Round(v, 3)));
    }

    [Fact]
    public void TheDeclaredSizeIsCheckedAgainstTheCapBeforeDecoding()
    {
        var small = new ImagePreprocessor(Options.Create(new ImagingOptions { MaxPixels = 100 }));
        var e = Assert.Throws<ImageRejectedException>(() => small.Preprocess(TestImages.PngGray8(11, 10, new byte[110]), MnistInput.Spec, new float[784]));
        Assert.Equal(400, e.Status);
        // A limit this small is said in pixels, not as "0 megapixels".
        Assert.Contains("11x10 pixels (110 pixels); the limit is 100 pixels", e.Message);
        small.Preprocess(TestImages.PngGray8(10, 10, new byte[100]), MnistInput.Spec, new float[784]);
    }

    [Fact]
    public void TheExifOrientationOfAPhotoIsApplied()
    {
        // 8 wide x 4 tall: left half black, right half white. EXIF orientation 6 means "rotate 90 degrees
        // clockwise to display", which puts the left half on top of a 4 wide x 8 tall picture.
        var pixels = new byte[8 * 4];
        for (var y = 0; y < 4; y++)
        {
            pixels.AsSpan(y * 8 + 4, 4).Fill(255);
        }

        var jpeg = TestImages.SkiaEncodeGray(8, 4, pixels, SKEncodedImageFormat.Jpeg, 100);
        // APP1 "Exif": little-endian TIFF header, one IFD entry: Orientation (0x0112), SHORT, 1 value, 6.
        byte[] app1 =
        [
            0xFF, 0xE1, 0x00, 0x22, (byte)'E', (byte)'x', (byte)'i', (byte)'f', 0, 0,
            (byte)'I', (byte)'I', 0x2A, 0x00, 0x08, 0x00, 0x00, 0x00,
            0x01, 0x00, 0x12, 0x01, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x06, 0x00, 0x00, 0x00,
            0x00, 0x00, 0x00, 0x00,
        ];
        byte[] rotated = [.. jpeg[..2], .. app1, .. jpeg[2..]];
        var spec = new InputSpec { Name = "x", Layout = TensorLayout.NCHW, Height = 8, Width = 4, Channels = 1, Scaling = PixelScaling.Raw };

        var tensor = Run(rotated, spec);

        Assert.True(tensor[..16].Average() < 30, $"top half should be black: {string.Join(' ', tensor[..16])}");
        Assert.True(tensor[16..].Average() > 225, $"bottom half should be white: {string.Join(' ', tensor[16..])}");
    }
}
