using System.Net;
using SkiaSharp;

namespace PredictionApi.Tests.Hostile;

/// <summary>
/// Real images of every supported format, cut short at many offsets and with seeded random bit flips:
/// each upload is answered 200 (the decoder made sense of it) or with a 4xx problem, never a 5xx or a
/// crash, and exactly the answered-200 uploads left rows behind.
/// </summary>
public sealed class CorruptImageTests(HostileService service) : IClassFixture<HostileService>
{
    public static TheoryData<string> Formats() => ["PNG", "PNG over a megapixel", "JPEG", "GIF", "BMP", "WebP lossy", "WebP lossless"];

    private static byte[] Sample(string format)
    {
        // The 7 at 112x112, so every format has real structure (several IDAT rows, DCT blocks, LZW codes) to cut into.
        var pixels = HostileImages.Digit(0, 4);
        return format switch
        {
            "PNG" => TestImages.PngGray8(112, 112, pixels),
            // Over a megapixel, so what the decoder makes of the damage is also box-averaged before preprocessing.
            "PNG over a megapixel" => TestImages.PngGray8(1120, 1120, HostileImages.Digit(0, 40)),
            "JPEG" => TestImages.SkiaEncodeGray(112, 112, pixels, SKEncodedImageFormat.Jpeg, 90),
            "GIF" => TestImages.GifGray(112, 112, pixels),
            "BMP" => TestImages.BmpGray(112, 112, pixels),
            "WebP lossy" => TestImages.SkiaEncodeGray(112, 112, pixels, SKEncodedImageFormat.Webp, 80),
            _ => TestImages.SkiaEncodeGray(112, 112, pixels, SKEncodedImageFormat.Webp, 100),
        };
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public async Task AnImageCutShortAnywhereIsAnsweredWithoutAServerError(string format)
    {
        var image = Sample(format);
        // Every offset through the headers, then 40 spread over the rest of the file.
        var cuts = Enumerable.Range(1, 40).Concat(Enumerable.Range(1, 40).Select(k => 40 + (image.Length - 41) * k / 40)).Distinct();
        await AssertEachIsOkOrRefusedAsync(format, cuts.Select(n => ($"{format} cut to {n} of {image.Length} bytes", image[..n])));
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public async Task AnImageWithRandomBitFlipsIsAnsweredWithoutAServerError(string format)
    {
        var image = Sample(format);
        var random = new Random(format.Length * 7919 + image.Length);
        var cases = new List<(string, byte[])>();
        for (var k = 0; k < 50; k++)
        {
            var damaged = (byte[])image.Clone();
            var flips = 1 + random.Next(4);
            var where = new List<int>();
            for (var f = 0; f < flips; f++)
            {
                // Half the flips land in the first 64 bytes, where headers and sizes are.
                var at = random.Next(2) == 0 ? random.Next(Math.Min(64, damaged.Length)) : random.Next(damaged.Length);
                damaged[at] ^= (byte)(1 << random.Next(8));
                where.Add(at);
            }

            cases.Add(($"{format} with bits flipped at {string.Join(",", where)}", damaged));
        }

        await AssertEachIsOkOrRefusedAsync(format, cases);
    }

    private async Task AssertEachIsOkOrRefusedAsync(string format, IEnumerable<(string What, byte[] Bytes)> cases)
    {
        var before = await service.CountRowsAsync();
        var ok = 0;
        var refused = 0;
        foreach (var (what, bytes) in cases)
        {
            using var response = await service.PostFileAsync(bytes);
            if (await HostileAssert.OkOrClientProblemAsync(response, what) == HttpStatusCode.OK)
            {
                ok++;
            }
            else
            {
                refused++;
            }
        }

        // Damage must be noticed at least sometimes, or the cases test nothing.
        Assert.True(refused > 0, $"{format}: no damaged file was refused");
        Assert.Equal((before.Inputs + ok, before.Predictions + ok), await service.CountRowsAsync());
        await service.AssertStillServingAsync($"damaged {format} files");
    }
}
