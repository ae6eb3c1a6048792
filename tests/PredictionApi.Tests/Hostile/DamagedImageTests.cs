using System.Net;
using System.Text.Json;
using SkiaSharp;

namespace PredictionApi.Tests.Hostile;

/// <summary>
/// Files the decoder reads without complaint although they are damaged: a JPEG whose scan data is cut
/// short or scrambled, or too little for the frame it declares; a BMP claiming an impossible palette; a PNG
/// with a critical chunk the standard does not define. The decoder fills in what is missing and the model
/// answers confidently, so each must be refused with a 400 saying what is wrong, and nothing stored.
/// </summary>
public sealed class DamagedImageTests(HostileService service) : IClassFixture<HostileService>
{
    private static readonly byte[] Seven224 = TestImages.SkiaEncodeGray(224, 224, HostileImages.Inverted(HostileImages.Digit(0, 8)), SKEncodedImageFormat.Jpeg, 90);

    public static TheoryData<string, byte[], string> Damaged() => new()
    {
        { "JPEG cut to a third of its scan data and closed with EOI", HostileImages.JpegScanCut(Seven224, 1 / 3.0), "truncated" },
        { "baseline JPEG with valid tables and random scan bytes", HostileImages.JpegRandomScans(Seven224, 11), "damaged" },
        { "progressive JPEG with valid tables and random scan bytes", HostileImages.JpegRandomScans(JpegSamples.ProgressiveJpeg, 12), "damaged" },
        { "JPEG declaring 3000x3000 with the scan data of 224x224", HostileImages.JpegFrameSize(Seven224, 3000, 3000), "truncated" },
        { "BMP with biClrUsed = 2^31", HostileImages.BmpPaletteDeclaring(28, 28, HostileImages.Inverted(Mnist.Images.Image(0)), 1u << 31), "palette" },
        { "PNG with an unknown critical chunk before IDAT", TestImages.Png(28, 28, 8, 0, 1, Mnist.Images.Image(0), ("SECt", [1, 2, 3, 4])), "critical" },
    };

    [Theory]
    [MemberData(nameof(Damaged))]
    public async Task ADamagedImageIsA400SayingWhatIsWrong(string what, byte[] bytes, string said)
    {
        var before = await service.CountRowsAsync();
        using var response = await service.PostFileAsync(bytes);

        var problem = await HostileAssert.ProblemAsync(response, 4, what);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(said, problem.GetProperty("detail").GetString());
        Assert.Equal(before, await service.CountRowsAsync());
    }

    [Fact]
    public async Task AJpegDeclaringMoreThanTheCapIsRefusedWhateverItsScanHolds()
    {
        using var response = await service.PostFileAsync(HostileImages.JpegFrameSize(Seven224, 6000, 6000));
        var problem = await HostileAssert.ProblemAsync(response, 4, "JPEG declaring 6000x6000");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("megapixels", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task AJpegOfAThousandScansIsRefusedBeforeItIsDecoded()
    {
        // 13 KB, under the large-image threshold, so it is decoded on a request's thread: it used to take seven seconds.
        var bomb = HostileImages.JpegRefinementScans(784, 1000);
        var before = await service.CountRowsAsync();
        var watch = System.Diagnostics.Stopwatch.StartNew();
        using var response = await service.PostFileAsync(bomb, "scans.jpg", "image/jpeg");
        var problem = await HostileAssert.ProblemAsync(response, 4, "JPEG of a thousand scans");
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Contains("scans", problem.GetProperty("detail").GetString());
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"refused after {watch.Elapsed.TotalSeconds:0.0} s");
        Assert.Equal(before, await service.CountRowsAsync());
    }

    [Fact]
    public async Task ATwelveBitJpegIsUnsupportedNotTruncated()
    {
        using var response = await service.PostFileAsync(HostileImages.JpegPrecision(Seven224, 12), "photo.jpg", "image/jpeg");
        var problem = await HostileAssert.ProblemAsync(response, 4, "12-bit JPEG");
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        var detail = problem.GetProperty("detail").GetString()!;
        Assert.Contains("12-bit", detail);
        Assert.DoesNotContain("truncated", detail);
    }

    public static TheoryData<string, byte[]> Intact() => new()
    {
        { "gray JPEG with restart markers", JpegSamples.GrayRestartJpeg },
        { "4:2:0 colour JPEG with restart markers", JpegSamples.Colour420RestartJpeg },
        { "progressive colour JPEG with restart markers", JpegSamples.ProgressiveRestartJpeg },
        { "the 224x224 JPEG the damaged ones are made from", Seven224 },
        { "8-bit palette BMP declaring its 256 colours", HostileImages.BmpPaletteDeclaring(28, 28, HostileImages.Inverted(Mnist.Images.Image(0)), 256) },
    };

    [Theory]
    [MemberData(nameof(Intact))]
    public async Task TheIntactKindsOfTheseFilesAreRead(string what, byte[] bytes)
    {
        using var response = await service.PostFileAsync(bytes);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{what}: {(int)response.StatusCode} {text}");
        Assert.Equal(7, JsonSerializer.Deserialize<JsonElement>(text).GetProperty("likely_class").GetInt32());
    }

    [Fact]
    public async Task AnArithmeticCodedJpegIsUnsupported()
    {
        // Its scan data could not be checked, so damage in it would go unnoticed; hardly anything writes it.
        using var response = await service.PostFileAsync(JpegSamples.ArithmeticJpeg, "arith.jpg", "image/jpeg");
        var problem = await HostileAssert.ProblemAsync(response, 4, "arithmetic JPEG");
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Contains("arithmetic coding", problem.GetProperty("detail").GetString());
    }
}
