using PredictionApi.Imaging;
using PredictionApi.Tests.Hostile;
using SkiaSharp;

namespace PredictionApi.Tests.Imaging;

/// <summary>
/// The scan check passes every JPEG an encoder writes (baseline, progressive, restart markers, subsampled
/// colour, CMYK) and refuses data the decoder would only have warned about: cut short, scrambled, or too
/// little for the frame it claims.
/// </summary>
public sealed class JpegScanTests
{
    private static readonly byte[] Seven224 = TestImages.SkiaEncodeGray(224, 224, HostileImages.Inverted(HostileImages.Digit(0, 8)), SKEncodedImageFormat.Jpeg, 90);

    public static TheoryData<string, byte[]> Intact() => new()
    {
        { "Skia baseline gray", Seven224 },
        { "Skia baseline colour", ColourJpeg() },
        { "ImageMagick CMYK", JpegSamples.CmykJpeg },
        { "ImageMagick progressive", JpegSamples.ProgressiveJpeg },
        { "cjpeg gray with restart markers", JpegSamples.GrayRestartJpeg },
        { "cjpeg 4:2:0 colour with restart markers", JpegSamples.Colour420RestartJpeg },
        { "cjpeg progressive colour with restart markers", JpegSamples.ProgressiveRestartJpeg },
        { "cjpeg 2x1 sampling with restart markers every 2 MCUs", JpegSamples.Sampled2x1RestartJpeg },
        { "cjpeg 4x1 sampling, partial MCUs at both edges", JpegSamples.Sampled4x1Jpeg },
        { "jpegtran progressive from 1x2 sampling, restart markers, optimised tables", JpegSamples.TransformedProgressiveJpeg },
    };

    [Theory]
    [MemberData(nameof(Intact))]
    public void EncodersOutputPasses(string what, byte[] jpeg)
    {
        var e = Record.Exception(() => JpegScan.Check(jpeg));
        Assert.True(e is null, $"{what}: {e?.Message}");
    }

    public static TheoryData<string, byte[]> Damaged() => new()
    {
        { "baseline cut to a third of its scan, closed with EOI", HostileImages.JpegScanCut(Seven224, 1 / 3.0) },
        { "baseline cut to 90% of its scan, closed with EOI", HostileImages.JpegScanCut(Seven224, 0.9) },
        { "baseline with random scan bytes", HostileImages.JpegRandomScans(Seven224, 1) },
        { "progressive with random scan bytes", HostileImages.JpegRandomScans(JpegSamples.ProgressiveJpeg, 2) },
        { "progressive with restarts and random scan bytes", HostileImages.JpegRandomScans(JpegSamples.ProgressiveRestartJpeg, 3) },
        { "4:2:0 with restarts and random scan bytes", HostileImages.JpegRandomScans(JpegSamples.Colour420RestartJpeg, 4) },
        { "progressive cut to half its first scan", HostileImages.JpegScanCut(JpegSamples.ProgressiveJpeg, 0.5) },
        { "2x1 sampling with restarts and random scan bytes", HostileImages.JpegRandomScans(JpegSamples.Sampled2x1RestartJpeg, 5) },
        { "jpegtran progressive cut to 40% of its first scan", HostileImages.JpegScanCut(JpegSamples.TransformedProgressiveJpeg, 0.4) },
        { "a 6000x6000 frame with the scan of 224x224", HostileImages.JpegFrameSize(Seven224, 6000, 6000) },
        { "a 448x448 frame with the scan of 224x224", HostileImages.JpegFrameSize(Seven224, 448, 448) },
        { "a 112x112 frame with the scan of 224x224", HostileImages.JpegFrameSize(Seven224, 112, 112) },
        { "no end-of-image marker and half the scan", Seven224[..(Seven224.Length / 2)] },
    };

    [Theory]
    [MemberData(nameof(Damaged))]
    public void DamagedScansAreCorruptImages(string what, byte[] jpeg)
    {
        var e = Assert.Throws<ImageRejectedException>(() => JpegScan.Check(jpeg));
        Assert.Equal(400, e.Status);
        Assert.True(e.Message.Contains("truncated", StringComparison.Ordinal) || e.Message.Contains("damaged", StringComparison.Ordinal), $"{what}: {e.Message}");
    }

    [Fact]
    public void TwelveBitSamplesAreUnsupportedNotTruncated()
    {
        var e = Assert.Throws<ImageRejectedException>(() => JpegScan.Check(HostileImages.JpegPrecision(Seven224, 12)));
        Assert.Equal(415, e.Status);
        Assert.Contains("12-bit", e.Message);
        Assert.DoesNotContain("truncated", e.Message);
    }

    [Fact]
    public void AJpegWithoutItsEndMarkerButWithAllItsDataPasses()
    {
        // Some cameras and cut-and-paste tools drop the final marker; the image itself is whole.
        Assert.True(JpegScan.Check(Seven224[..^2]));
        Assert.False(JpegScan.Check(Seven224));
        Assert.Throws<ImageRejectedException>(() => JpegScan.Check(Seven224[..^3]));
    }

    [Fact]
    public void AJpegWithoutItsEndMarkerDecodesToTheSameTensorAsTheWholeFile()
    {
        // The decoder calls such a file incomplete; it is given the marker, so the pixels are the whole file's.
        var (whole, cut) = (MnistInput.Prepare(Seven224), MnistInput.Prepare(Seven224[..^2]));
        Assert.Equal(whole, cut);
        Assert.Contains(whole, v => v > 0.5f);
    }

    [Fact]
    public void AProgressiveJpegOfThousandsOfTinyScansIsRefusedUnread()
    {
        // 780x780 is a "small" image (decoded on a pool thread), yet each 2-byte scan is a pass over all of its 9,604
        // blocks: 10 MB of such scans held a pool thread for minutes, and a few uploads of them starved the capped pool.
        var e = Assert.Throws<ImageRejectedException>(() => JpegScan.Check(TinyScans(780, 2000)));
        Assert.Equal(415, e.Status);
        Assert.Contains($"more than {JpegScan.MaxScans} scans", e.Message);
        // Up to the limit, the same file passes.
        JpegScan.Check(TinyScans(780, JpegScan.MaxScans - 1));
    }

    /// <summary>
    /// A grayscale progressive JPEG of side x side pixels: one DC scan, then <paramref name="acScans"/> AC scans of two bytes,
    /// each a single end-of-band run over every block (tables of one code each).
    /// </summary>
    private static byte[] TinyScans(int side, int acScans)
    {
        var s = new MemoryStream();
        void W(params byte[] b) => s.Write(b);
        W(0xFF, 0xD8);
        W(0xFF, 0xDB, 0x00, 0x43, 0x00);
        W(Enumerable.Repeat((byte)1, 64).ToArray());
        W(0xFF, 0xC2, 0x00, 0x0B, 0x08, (byte)(side >> 8), (byte)side, (byte)(side >> 8), (byte)side, 0x01, 0x01, 0x11, 0x00);
        // DC table 0: the one code '0' for category 0; AC table 0: the one code '0' for an end-of-band run of 13 extra bits.
        W(0xFF, 0xC4, 0x00, 0x14, 0x00, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00);
        W(0xFF, 0xC4, 0x00, 0x14, 0x10, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xD0);
        var blocks = (side + 7) / 8 * ((side + 7) / 8);
        W(0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00);
        W(new byte[(blocks + 7) / 8]);
        var bits = (blocks - 8192) << 2 | 0b11;
        for (var n = 0; n < acScans; n++)
        {
            W(0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, 0x01, 0x3F, 0x00, (byte)(bits >> 8), (byte)bits);
        }

        W(0xFF, 0xD9);
        return s.ToArray();
    }

    private static byte[] ColourJpeg()
    {
        var gray = HostileImages.Digit(1, 4);
        using var bitmap = new SKBitmap(new SKImageInfo(112, 112, SKColorType.Rgba8888, SKAlphaType.Opaque));
        var pixels = bitmap.GetPixelSpan();
        for (var i = 0; i < gray.Length; i++)
        {
            (pixels[i * 4], pixels[i * 4 + 1], pixels[i * 4 + 2], pixels[i * 4 + 3]) = (gray[i], (byte)(255 - gray[i]), (byte)(i % 256), 255);
        }

        using var data = bitmap.Encode(SKEncodedImageFormat.Jpeg, 85);
        return data.ToArray();
    }
}
