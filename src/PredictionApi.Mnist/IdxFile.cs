using System.Buffers.Binary;
using System.IO.Compression;

namespace PredictionApi.Mnist;

/// <summary>
/// Reads MNIST-style IDX files (unsigned byte images and labels), gzip-compressed or raw.
/// Every malformed file raises <see cref="InvalidDataException"/> with a message that names the file and the problem.
/// </summary>
/// <remarks>
/// Format: two zero bytes, a type code (0x08 = unsigned byte), the number of dimensions,
/// then one big-endian 32-bit size per dimension, then the data.
/// </remarks>
public static class IdxFile
{
    /// <summary>Largest accepted image side; anything larger is a corrupt header, not an image set.</summary>
    public const int MaxSide = 4096;

    /// <summary>Largest accepted data size (1 GiB) so a corrupt header cannot make us allocate without bound.</summary>
    public const long MaxBytes = 1L << 30;

    private const byte UnsignedByte = 0x08;

    /// <summary>Reads a 3-dimensional IDX file of images (<c>count x rows x columns</c> bytes).</summary>
    public static IdxImages ReadImages(string path)
    {
        var data = ReadAll(path);
        var dims = ReadHeader(data, path, expectedDims: 3);
        var (count, rows, columns) = (dims[0], dims[1], dims[2]);
        if (rows is < 1 or > MaxSide || columns is < 1 or > MaxSide)
            throw new InvalidDataException($"{Name(path)}: image size {rows}x{columns} is not plausible (each side must be 1..{MaxSide}).");
        var pixels = Payload(data, path, (long)count * rows * columns);
        return new IdxImages(count, rows, columns, pixels);
    }

    /// <summary>Reads a 1-dimensional IDX file of labels (one byte per item).</summary>
    public static byte[] ReadLabels(string path)
    {
        var data = ReadAll(path);
        var dims = ReadHeader(data, path, expectedDims: 1);
        return Payload(data, path, dims[0]);
    }

    /// <summary>Reads an image file and a label file and checks that they describe the same number of items.</summary>
    public static (IdxImages Images, byte[] Labels) ReadLabelled(string imagesPath, string labelsPath)
    {
        var images = ReadImages(imagesPath);
        var labels = ReadLabels(labelsPath);
        if (images.Count != labels.Length)
            throw new InvalidDataException(
                $"{Name(imagesPath)} holds {images.Count} images but {Name(labelsPath)} holds {labels.Length} labels; they must match.");
        return (images, labels);
    }

    private static byte[] ReadAll(string path)
    {
        using var file = File.OpenRead(path);
        Span<byte> magic = stackalloc byte[2];
        var got = file.ReadAtLeast(magic, 2, throwOnEndOfStream: false);
        file.Position = 0;
        if (got == 0)
            throw new InvalidDataException($"{Name(path)} is empty; expected an IDX file (raw or .gz).");
        // gzip is recognised by its magic bytes, not the file name, so renamed files still load.
        var isGzip = got == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
        using var buffer = new MemoryStream();
        try
        {
            if (isGzip)
            {
                using var gzip = new GZipStream(file, CompressionMode.Decompress);
                CopyBounded(gzip, buffer, path);
            }
            else
            {
                CopyBounded(file, buffer, path);
            }
        }
        catch (InvalidDataException ex) when (isGzip)
        {
            throw new InvalidDataException($"{Name(path)} starts like gzip but does not decompress: {ex.Message}", ex);
        }
        // A cut-off gzip stream can end without an error; nothing decompressed means it was not a usable gzip file.
        if (isGzip && buffer.Length == 0)
            throw new InvalidDataException($"{Name(path)} starts like gzip but does not decompress to any data.");
        return buffer.ToArray();
    }

    private static void CopyBounded(Stream source, MemoryStream target, string path)
    {
        var chunk = new byte[81920];
        int read;
        while ((read = source.Read(chunk)) > 0)
        {
            if (target.Length + read > MaxBytes + 64)
                throw new InvalidDataException($"{Name(path)} is larger than {MaxBytes} bytes; refusing to load it.");
            target.Write(chunk, 0, read);
        }
    }

    private static int[] ReadHeader(byte[] data, string path, int expectedDims)
    {
        if (data.Length < 4)
            throw new InvalidDataException($"{Name(path)} is {data.Length} bytes long, too short for an IDX header.");
        if (data[0] != 0 || data[1] != 0)
            throw new InvalidDataException(
                $"{Name(path)} is not an IDX file: it must start with two zero bytes, found 0x{data[0]:x2} 0x{data[1]:x2}.");
        if (data[2] != UnsignedByte)
            throw new InvalidDataException(
                $"{Name(path)} holds IDX type 0x{data[2]:x2}; only unsigned bytes (0x08) are supported.");
        if (data[3] != expectedDims)
            throw new InvalidDataException(
                $"{Name(path)} has {data[3]} dimensions; expected {expectedDims} ({(expectedDims == 3 ? "count, rows, columns" : "count")}).");
        var headerBytes = 4 + 4 * expectedDims;
        if (data.Length < headerBytes)
            throw new InvalidDataException($"{Name(path)} is truncated inside its header ({data.Length} of {headerBytes} bytes).");
        var dims = new int[expectedDims];
        for (var i = 0; i < expectedDims; i++)
        {
            var size = BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(4 + 4 * i));
            if (size > int.MaxValue)
                throw new InvalidDataException($"{Name(path)}: dimension {i} has size {size}, which is not plausible.");
            dims[i] = (int)size;
        }
        return dims;
    }

    private static byte[] Payload(byte[] data, string path, long expected)
    {
        var offset = data[3] * 4 + 4;
        if (expected > MaxBytes)
            throw new InvalidDataException($"{Name(path)}: the header announces {expected} bytes of data, more than the {MaxBytes} accepted.");
        long actual = data.Length - offset;
        if (actual < expected)
            throw new InvalidDataException($"{Name(path)} is truncated: the header announces {expected} bytes of data but only {actual} follow.");
        if (actual > expected)
            throw new InvalidDataException($"{Name(path)} has {actual - expected} unexpected bytes after the {expected} announced by its header.");
        return data.AsSpan(offset).ToArray();
    }

    private static string Name(string path) => $"'{Path.GetFileName(path)}'";
}
