using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using SkiaSharp;

namespace PredictionApi.Tests.Hostile;

/// <summary>
/// Images that are valid but unusual (palettes with transparency, 16-bit, top-down, animated, CMYK,
/// progressive, blank, one pixel wide) and files that only pretend to be images or declare enormous
/// canvases. Valid images must reach the model as their plain equivalents do; the rest get a clear 4xx.
/// </summary>
public sealed class ImageEdgeTests(HostileService service) : IClassFixture<HostileService>
{
    private static readonly byte[] Seven = HostileImages.Digit(0, 1);

    [Fact]
    public async Task TransparencyAndUnusualEncodingsReachTheModelAsTheirPlainEquivalent()
    {
        // The reference: the 7 written dark on white, as an ordinary 8-bit gray PNG.
        var paper = HostileImages.Inverted(Seven);
        var reference = await TensorAsync(TestImages.PngGray8(28, 28, paper), "reference");

        // Palette index i is gray i; the white paper (index 255) is fully transparent, composited on the white background.
        var transparentPaper = Enumerable.Repeat((byte)255, 256).ToArray();
        transparentPaper[255] = 0;
        Assert.Equal(reference, await TensorAsync(HostileImages.PngPalette(28, 28, paper, transparentPaper), "palette PNG with tRNS"));

        var samples = paper.Select(v => (ushort)(v * 257)).ToArray();
        Assert.Equal(reference, await TensorAsync(HostileImages.PngGray16Transparent(28, 28, samples, 65535), "16-bit PNG with tRNS"));

        var bmp = TestImages.BmpGray(28, 28, paper);
        Assert.Equal(reference, await TensorAsync(bmp, "bottom-up BMP"));
        Assert.Equal(reference, await TensorAsync(HostileImages.TopDown(bmp), "top-down BMP (negative height)"));

        Assert.Equal(reference, await TensorAsync(HostileImages.WebPInkOnTransparent(28, 28, Seven), "lossless WebP, ink as alpha"));

        // Only the first frame counts, however many follow.
        var frames = new[] { paper }.Concat(Enumerable.Range(1, 150).Select(i => HostileImages.Inverted(Mnist.Images.Image(i)))).ToArray();
        Assert.Equal(reference, await TensorAsync(TestImages.GifGray(28, 28, frames), "GIF with 151 frames"));
    }

    [Fact]
    public async Task ALargeImageIsBoxAveragedFaithfullyBeforePreprocessing()
    {
        // 1120 x 1120 (over a megapixel) is averaged 2 x 2 before the profile runs; its 2 x 2 blocks are
        // uniform, so the result must be exactly what the 560 x 560 image gives without any averaging.
        var large = await TensorAsync(TestImages.PngGray8(1120, 1120, HostileImages.Inverted(HostileImages.Digit(0, 40))), "1120 x 1120");
        var half = await TensorAsync(TestImages.PngGray8(560, 560, HostileImages.Inverted(HostileImages.Digit(0, 20))), "560 x 560");
        Assert.Equal(half, large);
        Assert.Contains(large, v => v > 0.5f);
    }

    [Fact]
    public async Task TheDeclaredTypeIsNeverTrustedOrServedBack()
    {
        // A real PNG with an HTML page appended, declared as HTML: stored and served as what its bytes are.
        byte[] polyglot = [.. Mnist.Png(0), .. Encoding.ASCII.GetBytes("<html><script>alert(document.cookie)</script></html>")];
        using var response = await service.PostFileAsync(polyglot, "page.html", "text/html; charset=utf-8");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("image/png", body.GetProperty("contenttype").GetString());
        Assert.Equal(7, body.GetProperty("likely_class").GetInt32());

        var id = body.GetProperty("prediction_id").GetInt64();
        using var image = await service.Client.GetAsync($"/prediction/{id}/image");
        Assert.Equal(HttpStatusCode.OK, image.StatusCode);
        Assert.Equal("image/png", image.Content.Headers.ContentType?.MediaType);
        Assert.Equal(polyglot, await image.Content.ReadAsByteArrayAsync());
        var stored = await service.Client.GetFromJsonAsync<JsonElement>($"/prediction/{id}");
        Assert.StartsWith("data:image/png;base64,", stored.GetProperty("image").GetString());
    }

    [Theory]
    [InlineData("CMYK")]
    [InlineData("progressive")]
    public async Task CmykAndProgressiveJpegsAreRead(string kind)
    {
        var jpeg = kind == "CMYK" ? JpegSamples.CmykJpeg : JpegSamples.ProgressiveJpeg;
        using var response = await service.PostFileAsync(jpeg, $"{kind}.jpg", "image/jpeg");
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{kind}: {(int)response.StatusCode} {text}");
        var body = JsonSerializer.Deserialize<JsonElement>(text);
        Assert.Equal("image/jpeg", body.GetProperty("contenttype").GetString());
        // A CMYK file decoded with the wrong ink convention would come out as a negative: the wrong digit or none.
        Assert.Equal(7, body.GetProperty("likely_class").GetInt32());
        Assert.True(body.GetProperty("confidence").GetSingle() > 0.5f, text);
    }

    public static TheoryData<string, byte[]> NoInk() => new()
    {
        { "all white 28x28", TestImages.PngGray8(28, 28, Enumerable.Repeat((byte)255, 784).ToArray()) },
        { "all black 28x28", TestImages.PngGray8(28, 28, new byte[784]) },
        { "all white 500x300", TestImages.PngGray8(500, 300, Enumerable.Repeat((byte)255, 150_000).ToArray()) },
        { "mid gray 64x64", TestImages.PngGray8(64, 64, Enumerable.Repeat((byte)128, 4096).ToArray()) },
        { "1x1 white", TestImages.PngGray8(1, 1, [255]) },
        { "1x1 black", TestImages.PngGray8(1, 1, [0]) },
        { "fully transparent RGBA", TestImages.PngRgba(8, 8, new byte[256]) },
        { "faint noise below the ink contrast", TestImages.PngGray8(40, 40, Enumerable.Range(0, 1600).Select(i => (byte)(240 + i * 7919 % 16)).ToArray()) },
    };

    [Theory]
    [MemberData(nameof(NoInk))]
    public async Task AnImageWithoutInkGivesABlankInputAndAValidDistribution(string what, byte[] png)
    {
        var body = await PredictAsync(png, what);
        Assert.All(Tensor(body), v => Assert.Equal(0f, v));
        AssertDistribution(body, what);
    }

    public static TheoryData<string, byte[]> Thin() => new()
    {
        { "1x1000 stripes", TestImages.PngGray8(1, 1000, Enumerable.Range(0, 1000).Select(i => (byte)(i % 2 * 255)).ToArray()) },
        { "4000x1 bar", TestImages.PngGray8(4000, 1, Enumerable.Range(0, 4000).Select(i => (byte)(i is > 1000 and < 3000 ? 255 : 0)).ToArray()) },
        { "3x2000 dark line on white", TestImages.PngGray8(3, 2000, Enumerable.Range(0, 6000).Select(i => (byte)(i % 3 == 1 ? 0 : 255)).ToArray()) },
        { "one lit pixel in 300x300", TestImages.PngGray8(300, 300, Enumerable.Range(0, 90_000).Select(i => (byte)(i == 45_150 ? 255 : 0)).ToArray()) },
    };

    [Theory]
    [MemberData(nameof(Thin))]
    public async Task ExtremeAspectRatiosAndSpecksGiveAFiniteInputAndAValidDistribution(string what, byte[] png)
    {
        var body = await PredictAsync(png, what);
        Assert.All(Tensor(body), v => Assert.True(float.IsFinite(v) && v is >= 0 and <= 1, $"{what}: tensor value {v}"));
        AssertDistribution(body, what);
    }

    public static TheoryData<string, byte[]> NotImages() => new()
    {
        { "SVG", Encoding.UTF8.GetBytes("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"28\" height=\"28\"><script>alert(1)</script><rect width=\"9\" height=\"20\"/></svg>") },
        { "HTML", Encoding.UTF8.GetBytes("<!doctype html><html><body><img src=x onerror=alert(1)></body></html>") },
        { "PDF", Encoding.ASCII.GetBytes("%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF") },
        { "ZIP", [0x50, 0x4B, 0x03, 0x04, 20, 0, 0, 0, 8, 0, .. new byte[40]] },
        { "gzip", [0x1F, 0x8B, 0x08, 0, 0, 0, 0, 0, 0, 3, .. new byte[20]] },
        { "ELF executable", [0x7F, (byte)'E', (byte)'L', (byte)'F', 2, 1, 1, 0, .. new byte[56]] },
        { "TIFF", [(byte)'I', (byte)'I', 42, 0, 8, 0, 0, 0, .. new byte[30]] },
        { "ICO", [0, 0, 1, 0, 1, 0, 16, 16, .. new byte[30]] },
        { "HEIC", [0, 0, 0, 24, (byte)'f', (byte)'t', (byte)'y', (byte)'p', (byte)'h', (byte)'e', (byte)'i', (byte)'c', .. new byte[30]] },
        { "UTF-16 text", Encoding.Unicode.GetBytes("\uFEFFnot a picture") },
        { "'BM' followed by text", Encoding.ASCII.GetBytes("BM is not enough to make a bitmap, not even close") },
        { "'RIFF' WAVE audio", [.. "RIFF"u8.ToArray(), 36, 0, 0, 0, .. "WAVEfmt "u8.ToArray(), .. new byte[24]] },
    };

    [Theory]
    [MemberData(nameof(NotImages))]
    public async Task FilesThatOnlyClaimToBeImagesAreUnsupportedMediaType(string what, byte[] bytes)
    {
        var before = await service.CountRowsAsync();
        using var response = await service.PostFileAsync(bytes, "digit.png", "image/png");

        var problem = await HostileAssert.ProblemAsync(response, 4, what);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Contains("not an image", problem.GetProperty("detail").GetString(), StringComparison.OrdinalIgnoreCase);
        Assert.Equal(before, await service.CountRowsAsync());
    }

    public static TheoryData<string, int, int> HugeCanvases() => new()
    {
        { "20000 x 20000", 20_000, 20_000 },
        { "16384 x 16384", 16_384, 16_384 },
        { "65535 x 65535", 65_535, 65_535 },
        { "1 x 50000000", 1, 50_000_000 },
        { "40000001 x 1", 40_000_001, 1 },
    };

    [Theory]
    [MemberData(nameof(HugeCanvases))]
    public async Task AHeaderDeclaringMoreThanTheCapIsRefusedBeforeDecoding(string what, int width, int height)
    {
        var before = await service.CountRowsAsync();
        foreach (var (format, bytes) in HostileImages.HugeHeaders(width, height))
        {
            using var response = await service.PostFileAsync(bytes);
            var problem = await HostileAssert.ProblemAsync(response, 4, $"{format} {what}");
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains("megapixels", problem.GetProperty("detail").GetString());
        }

        Assert.Equal(before, await service.CountRowsAsync());
        await service.AssertStillServingAsync(what);
    }

    [Fact]
    public async Task ZeroAndNegativeDimensionsAreCorruptImages()
    {
        var gif = TestImages.GifGray(4, 4, new byte[16]);
        gif[6] = gif[7] = 0;
        var bmp = TestImages.BmpGray(4, 4, new byte[16]);
        BitConverter.TryWriteBytes(bmp.AsSpan(18), -4);
        foreach (var (what, bytes) in new[]
        {
            ("PNG 0 x 0", TestImages.PngHeaderOnly(0, 0)),
            ("PNG 0 x 5", TestImages.PngHeaderOnly(0, 5)),
            ("PNG 2^31 x 1", TestImages.PngHeaderOnly(0x8000_0000, 1)),
            ("GIF 0 wide", gif),
            ("BMP -4 wide", bmp),
            ("JPEG 0 x 0", [0xFF, 0xD8, 0xFF, 0xC0, 0, 11, 8, 0, 0, 0, 0, 1, 1, 0x11, 0, 0xFF, 0xD9]),
        })
        {
            using var response = await service.PostFileAsync(bytes);
            await HostileAssert.ProblemAsync(response, 4, what);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        }
    }

    private async Task<JsonElement> PredictAsync(byte[] bytes, string what)
    {
        using var response = await service.Client.PostAsync("/prediction?include=tensor", TestImages.Form(bytes));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{what}: {(int)response.StatusCode} {text}");
        return JsonSerializer.Deserialize<JsonElement>(text);
    }

    private async Task<float[]> TensorAsync(byte[] bytes, string what) => Tensor(await PredictAsync(bytes, what));

    private static float[] Tensor(JsonElement body) =>
        body.GetProperty("tensor").GetProperty("data").EnumerateArray().Select(v => v.GetSingle()).ToArray();

    private static void AssertDistribution(JsonElement body, string what)
    {
        var p = body.GetProperty("prediction").EnumerateArray().Select(v => v.GetSingle()).ToArray();
        Assert.Equal(10, p.Length);
        Assert.All(p, v => Assert.True(float.IsFinite(v) && v is >= 0 and <= 1, $"{what}: probability {v}"));
        Assert.InRange(p.Sum(), 0.999f, 1.001f);
        var likely = body.GetProperty("likely_class").GetInt32();
        Assert.Equal(p.Max(), p[likely]);
        Assert.Equal(p[likely], body.GetProperty("confidence").GetSingle());
    }
}
