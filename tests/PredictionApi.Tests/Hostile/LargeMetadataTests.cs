using System.Buffers.Binary;
using System.Net;
using System.Text.Json;
using SkiaSharp;

namespace PredictionApi.Tests.Hostile;

/// <summary>
/// Uploads whose bulk is metadata: one PNG text chunk of 9 MB before the pixels cost a freshly started
/// service most of a minute of CPU, because the decoder grew a buffer for it step by step on a cold native
/// heap. The same weight of metadata in every format must cost a fresh process under a second and be
/// classified like the bare image.
/// </summary>
[Collection(AloneCollection.Name)]
public sealed class LargeMetadataTests
{
    private const int Metadata = 9 << 20;

    [Fact]
    public async Task NineMegabytesOfMetadataCostAFreshServiceUnderASecondOfCpuInEveryFormat()
    {
        var database = await TestPostgres.CreateDatabaseAsync("fresh");
        try
        {
            // A process of its own: the cost showed only on a freshly started one, and its CPU time is measured apart from the test run's.
            var url = $"http://127.0.0.1:{TestPostgres.FreePort()}";
            await using var service = ServiceProcess.Start($"--ConnectionStrings:Predictions={database}", "--urls", url, $"--Upload:MaxBytes={10 << 20}");
            var address = new Uri(url);
            await service.WaitForReadyAsync(address);
            using var client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(120) };
            // The request path is compiled by an ordinary upload first, so what is measured is the file alone.
            Assert.Equal(7, await ClassifyAsync(client, Mnist.Png(0), "a plain digit"));

            // The text chunk first: its cost was the cold heap's, so it must meet the process before any other large file.
            foreach (var (what, file) in Files())
            {
                Assert.True(file.Length > Metadata, what);
                var before = service.CpuTime;
                Assert.Equal(7, await ClassifyAsync(client, file, what));
                var spent = service.CpuTime - before;
                Assert.True(spent < TimeSpan.FromSeconds(1), $"{what}: {spent.TotalSeconds:0.00} s of CPU");
            }
        }
        finally
        {
            await TestPostgres.DropDatabaseAsync(database);
        }
    }

    private static IEnumerable<(string What, byte[] File)> Files()
    {
        var seven = Mnist.Images.Image(0).ToArray();
        var text = new byte[Metadata];
        text.AsSpan().Fill((byte)'x');
        text[0] = (byte)'k';
        text[1] = 0;
        yield return ("PNG with a 9 MB tEXt chunk before IDAT", TestImages.Png(28, 28, 8, 0, 1, seven, ("tEXt", text)));
        yield return ("PNG with a 9 MB eXIf chunk before IDAT", TestImages.Png(28, 28, 8, 0, 1, seven, ("eXIf", [(byte)'M', (byte)'M', 0, 42, .. text])));

        // JPEG segments hold at most 65533 bytes, so the metadata is many APP1 (EXIF), APP2 (ICC) and COM segments.
        var jpeg = TestImages.SkiaEncodeGray(28, 28, seven, SKEncodedImageFormat.Jpeg, 95);
        foreach (var (marker, prefix) in new[] { (0xE1, "Exif\0\0"u8.ToArray()), (0xE2, "ICC_PROFILE\0\u0001\u0001"u8.ToArray()), (0xFE, "comment"u8.ToArray()) })
        {
            var segments = new List<byte>();
            while (segments.Count < Metadata)
            {
                var payload = new byte[65533];
                prefix.CopyTo(payload, 0);
                segments.AddRange([0xFF, (byte)marker, 0xFF, 0xFF]);
                segments.AddRange(payload);
            }

            yield return ($"JPEG with 9 MB of 0x{marker:X2} segments", [.. jpeg[..2], .. segments, .. jpeg[2..]]);
        }

        // WebP: an extended file with an EXIF chunk of 9 MB.
        var webp = TestImages.SkiaEncodeGray(28, 28, seven, SKEncodedImageFormat.Webp);
        byte[] vp8x = [.. "VP8X"u8.ToArray(), 10, 0, 0, 0, 0x08, 0, 0, 0, 27, 0, 0, 27, 0, 0];
        byte[] exif = [.. "EXIF"u8.ToArray(), 0, 0, 0, 0, .. text];
        BinaryPrimitives.WriteInt32LittleEndian(exif.AsSpan(4), text.Length);
        byte[] body = [.. "WEBP"u8.ToArray(), .. vp8x, .. webp[12..], .. exif];
        byte[] riff = [.. "RIFF"u8.ToArray(), 0, 0, 0, 0, .. body];
        BinaryPrimitives.WriteInt32LittleEndian(riff.AsSpan(4), body.Length);
        yield return ("WebP with a 9 MB EXIF chunk", riff);

        // GIF: a comment extension of 9 MB in 255-byte sub-blocks, before the image.
        var gif = TestImages.GifGray(28, 28, seven);
        var comment = new List<byte> { 0x21, 0xFE };
        for (var n = 0; n < Metadata / 255; n++)
        {
            comment.Add(255);
            comment.AddRange(text.AsSpan(2, 255));
        }

        comment.Add(0);
        var header = 13 + 256 * 3;
        yield return ("GIF with a 9 MB comment", [.. gif[..header], .. comment, .. gif[header..]]);
    }

    private static async Task<int> ClassifyAsync(HttpClient client, byte[] file, string what)
    {
        using var response = await client.PostAsync("/prediction", TestImages.Form(file));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{what}: {(int)response.StatusCode} {text[..Math.Min(text.Length, 500)]}");
        return JsonSerializer.Deserialize<JsonElement>(text).GetProperty("likely_class").GetInt32();
    }
}
