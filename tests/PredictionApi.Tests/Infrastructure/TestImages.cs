using System.Buffers.Binary;
using System.IO.Compression;
using System.Net.Http.Headers;
using SkiaSharp;

namespace PredictionApi.Tests.Infrastructure;

/// <summary>
/// Builds real image files for tests. PNG, BMP and GIF are written byte by byte here, so a test controls
/// exactly what is in the file (bit depth, alpha, frames); JPEG and WebP come from Skia's encoders.
/// </summary>
public static class TestImages
{
    /// <summary>An 8-bit grayscale PNG.</summary>
    public static byte[] PngGray8(int width, int height, ReadOnlySpan<byte> pixels) => Png(width, height, 8, 0, 1, pixels);

    /// <summary>A 16-bit grayscale PNG; <paramref name="pixels"/> are 0..65535.</summary>
    public static byte[] PngGray16(int width, int height, ReadOnlySpan<ushort> pixels)
    {
        var bytes = new byte[pixels.Length * 2];
        for (var i = 0; i < pixels.Length; i++)
        {
            BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(i * 2), pixels[i]);
        }

        return Png(width, height, 16, 0, 2, bytes);
    }

    /// <summary>An 8-bit RGBA PNG; <paramref name="rgba"/> holds 4 bytes per pixel.</summary>
    public static byte[] PngRgba(int width, int height, ReadOnlySpan<byte> rgba) => Png(width, height, 8, 6, 4, rgba);

    /// <summary>An 8-bit RGB PNG; <paramref name="rgb"/> holds 3 bytes per pixel.</summary>
    public static byte[] PngRgb(int width, int height, ReadOnlySpan<byte> rgb) => Png(width, height, 8, 2, 3, rgb);

    /// <summary>Just a PNG signature and an IHDR declaring the given size: no pixel data at all.</summary>
    public static byte[] PngHeaderOnly(uint width, uint height)
    {
        using var stream = new MemoryStream();
        stream.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteUInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteUInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8;
        WriteChunk(stream, "IHDR", ihdr);
        WriteChunk(stream, "IDAT", ZLib(new byte[64]));
        WriteChunk(stream, "IEND", []);
        return stream.ToArray();
    }

    /// <summary>
    /// A PNG from raw samples (filter type 0 on every row), with extra chunks (PLTE, tRNS, ...) written before IDAT.
    /// Rows are deflated as they are written, so a large image of zeros stays a small file.
    /// </summary>
    public static byte[] Png(int width, int height, int bitDepth, int colourType, int bytesPerPixel, ReadOnlySpan<byte> samples,
        params (string Type, byte[] Data)[] chunks)
    {
        var stride = width * bytesPerPixel;
        using var deflated = new MemoryStream();
        using (var z = new ZLibStream(deflated, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            for (var y = 0; y < height; y++)
            {
                z.WriteByte(0);
                z.Write(samples.Slice(y * stride, stride));
            }
        }

        using var stream = new MemoryStream();
        stream.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = (byte)bitDepth;
        ihdr[9] = (byte)colourType;
        WriteChunk(stream, "IHDR", ihdr);
        foreach (var (type, data) in chunks)
        {
            WriteChunk(stream, type, data);
        }

        WriteChunk(stream, "IDAT", deflated.ToArray());
        WriteChunk(stream, "IEND", []);
        return stream.ToArray();
    }

    private static byte[] ZLib(byte[] data)
    {
        using var output = new MemoryStream();
        using (var z = new ZLibStream(output, CompressionLevel.Optimal))
        {
            z.Write(data);
        }

        return output.ToArray();
    }

    private static void WriteChunk(Stream stream, string type, ReadOnlySpan<byte> data)
    {
        Span<byte> header = stackalloc byte[8];
        BinaryPrimitives.WriteInt32BigEndian(header, data.Length);
        System.Text.Encoding.ASCII.GetBytes(type, header[4..]);
        stream.Write(header);
        stream.Write(data);
        var crc = Crc32(header[4..], data);
        Span<byte> trailer = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(trailer, crc);
        stream.Write(trailer);
    }

    private static uint Crc32(ReadOnlySpan<byte> type, ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var part in new[] { type.ToArray(), data.ToArray() })
        {
            foreach (var b in part)
            {
                crc ^= b;
                for (var k = 0; k < 8; k++)
                {
                    crc = (crc & 1) != 0 ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
                }
            }
        }

        return ~crc;
    }

    /// <summary>A 24-bit bottom-up BMP of a grayscale image.</summary>
    public static byte[] BmpGray(int width, int height, ReadOnlySpan<byte> pixels)
    {
        var stride = (width * 3 + 3) & ~3;
        var bytes = new byte[54 + stride * height];
        "BM"u8.CopyTo(bytes);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(2), bytes.Length);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(10), 54);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(14), 40);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(18), width);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(22), height);
        BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(26), 1);
        BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(28), 24);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(34), stride * height);
        for (var y = 0; y < height; y++)
        {
            var row = bytes.AsSpan(54 + (height - 1 - y) * stride);
            for (var x = 0; x < width; x++)
            {
                row[x * 3] = row[x * 3 + 1] = row[x * 3 + 2] = pixels[y * width + x];
            }
        }

        return bytes;
    }

    /// <summary>
    /// An animated GIF of grayscale frames (256-level palette). The LZW stream is written uncompressed:
    /// a clear code before every 254 pixels keeps every code 9 bits wide, which any decoder accepts.
    /// </summary>
    public static byte[] GifGray(int width, int height, params byte[][] frames)
    {
        using var s = new MemoryStream();
        s.Write("GIF89a"u8);
        Span<byte> screen = stackalloc byte[7];
        BinaryPrimitives.WriteUInt16LittleEndian(screen, (ushort)width);
        BinaryPrimitives.WriteUInt16LittleEndian(screen[2..], (ushort)height);
        screen[4] = 0xF7; // global colour table, 8 bits, 256 entries
        s.Write(screen);
        for (var i = 0; i < 256; i++)
        {
            s.Write([(byte)i, (byte)i, (byte)i]);
        }

        Span<byte> descriptor = stackalloc byte[9];
        foreach (var frame in frames)
        {
            s.Write([0x21, 0xF9, 4, 0, 10, 0, 0, 0]); // graphic control: 0.1 s delay
            s.WriteByte(0x2C);
            BinaryPrimitives.WriteUInt16LittleEndian(descriptor[4..], (ushort)width);
            BinaryPrimitives.WriteUInt16LittleEndian(descriptor[6..], (ushort)height);
            s.Write(descriptor);
            s.WriteByte(8); // LZW minimum code size
            var bits = new BitWriter();
            const int clear = 256, end = 257;
            for (var i = 0; i < frame.Length; i++)
            {
                if (i % 254 == 0)
                {
                    bits.Write(clear, 9);
                }

                bits.Write(frame[i], 9);
            }

            bits.Write(end, 9);
            var data = bits.ToArray();
            for (var offset = 0; offset < data.Length; offset += 255)
            {
                var n = Math.Min(255, data.Length - offset);
                s.WriteByte((byte)n);
                s.Write(data, offset, n);
            }

            s.WriteByte(0);
        }

        s.WriteByte(0x3B);
        return s.ToArray();
    }

    private sealed class BitWriter
    {
        private readonly List<byte> _bytes = [];
        private int _buffer;
        private int _count;

        public void Write(int code, int width)
        {
            _buffer |= code << _count;
            _count += width;
            while (_count >= 8)
            {
                _bytes.Add((byte)_buffer);
                _buffer >>= 8;
                _count -= 8;
            }
        }

        public byte[] ToArray()
        {
            if (_count > 0)
            {
                _bytes.Add((byte)_buffer);
            }

            return [.. _bytes];
        }
    }

    /// <summary>Encodes a grayscale image with Skia (JPEG or WebP; lossless WebP when quality is 100).</summary>
    public static byte[] SkiaEncodeGray(int width, int height, ReadOnlySpan<byte> pixels, SKEncodedImageFormat format, int quality = 100)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Gray8, SKAlphaType.Opaque));
        pixels.CopyTo(bitmap.GetPixelSpan());
        using var data = format == SKEncodedImageFormat.Webp
            ? bitmap.PeekPixels().Encode(new SKWebpEncoderOptions(quality == 100 ? SKWebpEncoderCompression.Lossless : SKWebpEncoderCompression.Lossy, quality))
            : bitmap.Encode(format, quality);
        return data?.ToArray() ?? throw new InvalidOperationException($"Skia could not encode {format}.");
    }

    /// <summary>A white canvas with a black filled rectangle: a "1" written dark on light.</summary>
    public static byte[] DarkBarOnWhite(int width, int height, int x, int y, int barWidth, int barHeight)
    {
        var pixels = new byte[width * height];
        Array.Fill(pixels, (byte)255);
        for (var r = y; r < y + barHeight; r++)
        {
            pixels.AsSpan(r * width + x, barWidth).Clear();
        }

        return pixels;
    }

    /// <summary>multipart/form-data with one file field.</summary>
    public static MultipartFormDataContent Form(byte[] bytes, string fileName = "digit.png", string contentType = "image/png", string field = "file")
    {
        var file = new ByteArrayContent(bytes);
        file.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        return new MultipartFormDataContent { { file, field, fileName } };
    }

    /// <summary>multipart/form-data with one "file" field a PNG, in this order (a batch).</summary>
    public static MultipartFormDataContent Form(params (string FileName, byte[] Png)[] files)
    {
        var form = new MultipartFormDataContent();
        foreach (var (fileName, png) in files)
        {
            var file = new ByteArrayContent(png);
            file.Headers.ContentType = new("image/png");
            form.Add(file, "file", fileName);
        }

        return form;
    }
}
