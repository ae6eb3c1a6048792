using System.IO.Compression;
using System.Security.Cryptography;
using PredictionApi.Mnist;

namespace PredictionApi.Training.Tests;

public sealed class IdxFileTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("idx-tests-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public void ReadsOfficialTestSetWithExpectedShapeAndChecksums()
    {
        // The md5 values are the published ones for the official MNIST test set.
        Assert.Equal("9fb629c4189551a2d022fa330f9573f3", Md5(RepoPaths.T10kImages));
        Assert.Equal("ec29112dd5afa0611ce80d1b7f02629c", Md5(RepoPaths.T10kLabels));

        var (images, labels) = IdxFile.ReadLabelled(RepoPaths.T10kImages, RepoPaths.T10kLabels);

        Assert.Equal((10_000, 28, 28), (images.Count, images.Rows, images.Columns));
        Assert.Equal(10_000 * 784, images.Pixels.Length);
        Assert.All(labels, l => Assert.InRange(l, 0, 9));
        Assert.Equal(7, labels[0]); // first test digit of MNIST is a 7
        Assert.Equal(10, labels.Distinct().Count());
        // Digits are light on dark: corners are background, some pixels are full ink.
        Assert.Equal(0, images.Image(0)[0]);
        Assert.Contains((byte)255, images.Image(0).ToArray());
    }

    [Fact]
    public void RawAndGzipFilesReadTheSame()
    {
        var pixels = Enumerable.Range(0, 2 * 3 * 4).Select(i => (byte)(i * 10)).ToArray();
        var raw = Write("raw.idx", ImageHeader(2, 3, 4), pixels);
        var gz = WriteGzip("packed.bin", [.. ImageHeader(2, 3, 4), .. pixels]);

        var a = IdxFile.ReadImages(raw);
        var b = IdxFile.ReadImages(gz);

        Assert.Equal((2, 3, 4), (a.Count, a.Rows, a.Columns));
        Assert.Equal(pixels, a.Pixels);
        Assert.Equal(pixels, b.Pixels);
        Assert.Equal(pixels.AsSpan(12, 12).ToArray(), a.Image(1).ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => a.Image(2));
    }

    [Fact]
    public void BadMagicIsRejected()
    {
        var path = Write("bad.idx", [1, 2, 8, 1, 0, 0, 0, 1, 5]);
        var ex = Assert.Throws<InvalidDataException>(() => IdxFile.ReadLabels(path));
        Assert.Contains("not an IDX file", ex.Message);
        Assert.Contains("bad.idx", ex.Message);
    }

    [Fact]
    public void WrongElementTypeIsRejected()
    {
        var path = Write("floats.idx", [0, 0, 0x0d, 1, 0, 0, 0, 1, 0, 0, 0, 0]);
        Assert.Contains("only unsigned bytes", Assert.Throws<InvalidDataException>(() => IdxFile.ReadLabels(path)).Message);
    }

    [Fact]
    public void LabelFileGivenAsImagesIsRejectedByDimensionCount()
    {
        var path = Write("labels.idx", [0, 0, 8, 1, 0, 0, 0, 2, 3, 4]);
        Assert.Contains("expected 3", Assert.Throws<InvalidDataException>(() => IdxFile.ReadImages(path)).Message);
    }

    [Fact]
    public void TruncatedDataIsRejected()
    {
        var path = Write("short.idx", ImageHeader(3, 2, 2), new byte[11]);
        var ex = Assert.Throws<InvalidDataException>(() => IdxFile.ReadImages(path));
        Assert.Contains("truncated", ex.Message);
        Assert.Contains("12 bytes", ex.Message);
    }

    [Fact]
    public void TruncatedHeaderIsRejected()
    {
        var path = Write("header.idx", [0, 0, 8, 3, 0, 0, 0, 1, 0, 0]);
        Assert.Contains("truncated inside its header", Assert.Throws<InvalidDataException>(() => IdxFile.ReadImages(path)).Message);
    }

    [Fact]
    public void TrailingBytesAreRejected()
    {
        var path = Write("long.idx", [0, 0, 8, 1, 0, 0, 0, 2, 1, 2, 3]);
        Assert.Contains("unexpected bytes", Assert.Throws<InvalidDataException>(() => IdxFile.ReadLabels(path)).Message);
    }

    [Fact]
    public void EmptyFileIsRejected()
    {
        var path = Write("empty.idx", []);
        Assert.Contains("is empty", Assert.Throws<InvalidDataException>(() => IdxFile.ReadLabels(path)).Message);
    }

    [Fact]
    public void CorruptGzipIsRejected()
    {
        var path = Write("broken.gz", [0x1f, 0x8b, 0x08, 0x00, 0xde, 0xad, 0xbe, 0xef, 0x00, 0x01, 0x02]);
        Assert.Contains("does not decompress", Assert.Throws<InvalidDataException>(() => IdxFile.ReadLabels(path)).Message);
    }

    [Fact]
    public void AbsurdImageSizeIsRejectedBeforeAllocating()
    {
        var path = Write("huge.idx", ImageHeader(1, 100_000, 100_000));
        Assert.Contains("not plausible", Assert.Throws<InvalidDataException>(() => IdxFile.ReadImages(path)).Message);
    }

    [Fact]
    public void ImageAndLabelCountMismatchIsRejected()
    {
        var images = Write("i.idx", ImageHeader(2, 1, 1), [1, 2]);
        var labels = Write("l.idx", [0, 0, 8, 1, 0, 0, 0, 3, 1, 2, 3]);
        var ex = Assert.Throws<InvalidDataException>(() => IdxFile.ReadLabelled(images, labels));
        Assert.Contains("2 images", ex.Message);
        Assert.Contains("3 labels", ex.Message);
    }

    private static byte[] ImageHeader(int count, int rows, int columns) =>
        [0, 0, 8, 3, .. BigEndian(count), .. BigEndian(rows), .. BigEndian(columns)];

    private static byte[] BigEndian(int v) => [(byte)(v >> 24), (byte)(v >> 16), (byte)(v >> 8), (byte)v];

    private string Write(string name, params byte[][] parts)
    {
        var path = Path.Combine(dir, name);
        File.WriteAllBytes(path, parts.SelectMany(p => p).ToArray());
        return path;
    }

    private string WriteGzip(string name, byte[] content)
    {
        var path = Path.Combine(dir, name);
        using var file = File.Create(path);
        using var gzip = new GZipStream(file, CompressionLevel.Fastest);
        gzip.Write(content);
        return path;
    }

    private static string Md5(string path) => Convert.ToHexStringLower(MD5.HashData(File.ReadAllBytes(path)));
}
