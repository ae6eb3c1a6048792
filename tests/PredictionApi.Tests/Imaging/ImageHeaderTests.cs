using PredictionApi.Imaging;
using SkiaSharp;

namespace PredictionApi.Tests.Imaging;

/// <summary>Formats are recognised by their bytes and dimensions read from headers, before any decoding.</summary>
public sealed class ImageHeaderTests
{
    private static readonly byte[] Pixels = Enumerable.Range(0, 30 * 20).Select(i => (byte)(i * 7)).ToArray();

    public static TheoryData<string, byte[], ImageFormat> Files() => new()
    {
        { "png", TestImages.PngGray8(30, 20, Pixels), ImageFormat.Png },
        { "png 16-bit", TestImages.PngGray16(30, 20, Pixels.Select(p => (ushort)(p * 257)).ToArray()), ImageFormat.Png },
        { "jpeg", TestImages.SkiaEncodeGray(30, 20, Pixels, SKEncodedImageFormat.Jpeg, 90), ImageFormat.Jpeg },
        { "webp lossless", TestImages.SkiaEncodeGray(30, 20, Pixels, SKEncodedImageFormat.Webp), ImageFormat.WebP },
        { "webp lossy", TestImages.SkiaEncodeGray(30, 20, Pixels, SKEncodedImageFormat.Webp, 80), ImageFormat.WebP },
        { "bmp", TestImages.BmpGray(30, 20, Pixels), ImageFormat.Bmp },
        { "gif", TestImages.GifGray(30, 20, Pixels), ImageFormat.Gif },
    };

    [Theory]
    [MemberData(nameof(Files))]
    public void EveryFormatIsRecognisedWithItsDeclaredSize(string what, byte[] file, ImageFormat format)
    {
        Assert.Equal(format, ImageHeader.Sniff(file));
        var header = ImageHeader.Read(format, file);
        Assert.True(header is { Width: 30, Height: 20 }, $"{what}: read {header}");
    }

    [Theory]
    [InlineData("plain text")]
    [InlineData("%PDF-1.7")]
    [InlineData("<svg xmlns='http://www.w3.org/2000/svg'/>")]
    [InlineData("BM but not a bitmap header at all")]
    [InlineData("RIFF....WAVEfmt ")]
    public void OtherBytesAreNotImages(string text) => Assert.Null(ImageHeader.Sniff(System.Text.Encoding.ASCII.GetBytes(text)));

    [Fact]
    public void CutOffHeadersHaveNoDimensions()
    {
        foreach (var (file, format) in Files().Select(row => ((byte[])row[1], (ImageFormat)row[2])))
        {
            Assert.Null(ImageHeader.Read(format, file.AsSpan(0, Math.Min(file.Length, 9))));
        }
    }

    [Theory]
    [InlineData(1, 1, 4000, 4000)]
    [InlineData(4000, 1, 3000, 3000)]
    [InlineData(28, 28, 28, 28)]
    public void AGifIsReadAtTheSizeTheDecoderGivesIt(int screenWidth, int screenHeight, int width, int height)
    {
        // The decoder enlarges the logical screen to hold the first frame; the header check must see that size.
        var gif = Hostile.HostileImages.GifWhiteFrame(screenWidth, screenHeight, width, height);
        using var codec = SKCodec.Create(new MemoryStream(gif));
        var header = ImageHeader.Read(ImageFormat.Gif, gif);
        Assert.Equal((codec.Info.Width, codec.Info.Height), (header!.Value.Width, header.Value.Height));
        Assert.Equal((Math.Max(screenWidth, width), Math.Max(screenHeight, height)), (header.Value.Width, header.Value.Height));
    }

    [Fact]
    public void HugeDeclaredSizesAreReadFromTheHeaderAlone()
    {
        var header = ImageHeader.Read(ImageFormat.Png, TestImages.PngHeaderOnly(100_000, 90_000));
        Assert.Equal(9_000_000_000L, header!.Value.Pixels);
    }
}
