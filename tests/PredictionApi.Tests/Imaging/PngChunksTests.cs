using System.IO.Compression;
using PredictionApi.Imaging;

namespace PredictionApi.Tests.Imaging;

/// <summary>
/// Only the chunks that make a PNG's pixels reach the decoder: metadata of any size is dropped before
/// decoding without changing the result, and a critical chunk the standard does not define is refused.
/// </summary>
public sealed class PngChunksTests
{
    public static TheoryData<string, byte[]> Metadata()
    {
        var text = new byte[1 << 20];
        text.AsSpan().Fill((byte)'x');
        text[0] = (byte)'a';
        text[1] = 0;
        return new()
        {
            { "tEXt", text },
            { "zTXt", [(byte)'a', 0, 0, .. Deflate(text)] },
            { "iTXt", [(byte)'a', 0, 0, 0, 0, 0, .. text] },
            { "eXIf", [(byte)'M', (byte)'M', 0, 42, .. text] },
            { "iCCP", [(byte)'a', 0, 0, .. Deflate(text)] },
            { "gAMA", [0, 0, 39, 16] },
            { "prVt", text },
        };
    }

    [Theory]
    [MemberData(nameof(Metadata))]
    public void MetadataChunksAreDroppedBeforeDecodingAndChangeNothing(string type, byte[] payload)
    {
        var plain = Mnist.Png(0);
        var tagged = TestImages.Png(28, 28, 8, 0, 1, Mnist.Images.Image(0), (type, payload));

        using var essential = PngChunks.Essential(tagged);
        Assert.Equal(plain, essential.ToArray());
        Assert.Equal(MnistInput.Prepare(plain), MnistInput.Prepare(tagged));
    }

    [Fact]
    public void TransparencyIsKeptAndBytesAfterTheEndAreNot()
    {
        var palette = Enumerable.Range(0, 256).SelectMany(i => new[] { (byte)i, (byte)i, (byte)i }).ToArray();
        byte[] alpha = [0, 255];
        var png = TestImages.Png(28, 28, 8, 3, 1, Mnist.Images.Image(0), ("PLTE", palette), ("tRNS", alpha));
        byte[] trailing = [.. png, .. "<html>not part of the image</html>"u8.ToArray()];

        using var essential = PngChunks.Essential(trailing);
        Assert.Equal(png, essential.ToArray());
    }

    [Fact]
    public void AnUnknownCriticalChunkMakesTheImageCorrupt()
    {
        var png = TestImages.Png(28, 28, 8, 0, 1, Mnist.Images.Image(0), ("CRTc", [1, 2, 3]));

        var e = Assert.Throws<ImageRejectedException>(() => MnistInput.Prepare(png));
        Assert.Equal(400, e.Status);
        Assert.Contains("'CRTc'", e.Message);
        Assert.Contains("critical", e.Message);
    }

    [Theory]
    [InlineData("PLTE", 3 << 20)]
    [InlineData("PLTE", 769)]
    [InlineData("IEND", 1 << 20)]
    public void ACriticalChunkOfAnImpossibleLengthMakesTheImageCorrupt(string type, int length)
    {
        // Written before IDAT: the decoder would have buffered it whole, like a text chunk.
        var png = TestImages.Png(28, 28, 8, 0, 1, Mnist.Images.Image(0), (type, new byte[length]));

        var e = Assert.Throws<ImageRejectedException>(() => MnistInput.Prepare(png));
        Assert.Equal(400, e.Status);
        Assert.Contains($"'{type}' chunk has an impossible length ({length} bytes)", e.Message);
    }

    [Fact]
    public void AnUnknownAncillaryChunkWithTheSameNameInLowerCaseIsIgnored()
    {
        var png = TestImages.Png(28, 28, 8, 0, 1, Mnist.Images.Image(0), ("cRTc", [1, 2, 3]));
        Assert.Equal(MnistInput.Prepare(Mnist.Png(0)), MnistInput.Prepare(png));
    }

    private static byte[] Deflate(byte[] data)
    {
        using var output = new MemoryStream();
        using (var z = new ZLibStream(output, CompressionLevel.Fastest))
        {
            z.Write(data);
        }

        return output.ToArray();
    }
}
