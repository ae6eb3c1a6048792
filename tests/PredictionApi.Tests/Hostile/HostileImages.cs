using System.Buffers.Binary;
using System.IO.Compression;
using SkiaSharp;

namespace PredictionApi.Tests.Hostile;

/// <summary>
/// Image files with the awkward features real uploads and attackers bring: palettes with transparency,
/// 16-bit samples, top-down bitmaps, headers that declare enormous canvases. PNG chunks are written
/// here byte by byte (with their CRCs) so a test states exactly what the file holds.
/// </summary>
public static class HostileImages
{
    /// <summary>MNIST test image <paramref name="index"/> scaled up by <paramref name="factor"/> (nearest neighbour).</summary>
    public static byte[] Digit(int index, int factor)
    {
        var source = Mnist.Images.Image(index);
        var side = 28 * factor;
        var pixels = new byte[side * side];
        for (var y = 0; y < side; y++)
        {
            for (var x = 0; x < side; x++)
            {
                pixels[y * side + x] = source[y / factor * 28 + x / factor];
            }
        }

        return pixels;
    }

    /// <summary>255 - v for every pixel: the digit written dark on light, as on paper.</summary>
    public static byte[] Inverted(ReadOnlySpan<byte> pixels)
    {
        var inverted = new byte[pixels.Length];
        for (var i = 0; i < pixels.Length; i++)
        {
            inverted[i] = (byte)(255 - pixels[i]);
        }

        return inverted;
    }

    /// <summary>An 8-bit palette PNG whose palette entry i is gray level i, with <paramref name="transparency"/> as its tRNS chunk.</summary>
    public static byte[] PngPalette(int width, int height, ReadOnlySpan<byte> indices, byte[] transparency)
    {
        var palette = new byte[256 * 3];
        for (var i = 0; i < 256; i++)
        {
            palette[i * 3] = palette[i * 3 + 1] = palette[i * 3 + 2] = (byte)i;
        }

        return TestImages.Png(width, height, bitDepth: 8, colourType: 3, bytesPerPixel: 1, indices, ("PLTE", palette), ("tRNS", transparency));
    }

    /// <summary>A 16-bit grayscale PNG (samples big-endian) whose tRNS marks the gray value <paramref name="transparentGray"/> transparent.</summary>
    public static byte[] PngGray16Transparent(int width, int height, ReadOnlySpan<ushort> samples, ushort transparentGray)
    {
        var bytes = new byte[samples.Length * 2];
        for (var i = 0; i < samples.Length; i++)
        {
            BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(i * 2), samples[i]);
        }

        var trns = new byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(trns, transparentGray);
        return TestImages.Png(width, height, bitDepth: 16, colourType: 0, bytesPerPixel: 2, bytes, ("tRNS", trns));
    }

    /// <summary>An 8-bit grayscale PNG whose rows are stored deflated but whose file is tiny: a decompression bomb of zeros.</summary>
    public static byte[] PngZeros(int width, int height) => TestImages.Png(width, height, 8, 0, 1, new byte[(long)width * height > int.MaxValue ? 0 : width * height]);

    /// <summary>The same BMP stored top-down: a negative height and the rows in reading order.</summary>
    public static byte[] TopDown(byte[] bottomUpBmp)
    {
        var width = BinaryPrimitives.ReadInt32LittleEndian(bottomUpBmp.AsSpan(18));
        var height = BinaryPrimitives.ReadInt32LittleEndian(bottomUpBmp.AsSpan(22));
        var offset = BinaryPrimitives.ReadInt32LittleEndian(bottomUpBmp.AsSpan(10));
        var stride = (width * 3 + 3) & ~3;
        var flipped = (byte[])bottomUpBmp.Clone();
        BinaryPrimitives.WriteInt32LittleEndian(flipped.AsSpan(22), -height);
        for (var row = 0; row < height; row++)
        {
            bottomUpBmp.AsSpan(offset + row * stride, stride).CopyTo(flipped.AsSpan(offset + (height - 1 - row) * stride));
        }

        return flipped;
    }

    /// <summary>A lossless WebP of a dark digit on a fully transparent ground (alpha = ink).</summary>
    public static byte[] WebPInkOnTransparent(int width, int height, ReadOnlySpan<byte> ink)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        var pixels = bitmap.GetPixelSpan();
        for (var i = 0; i < ink.Length; i++)
        {
            // Black ink whose coverage is the alpha; the colour under alpha 0 does not matter.
            pixels[i * 4 + 3] = ink[i];
        }

        using var data = bitmap.PeekPixels().Encode(new SKWebpEncoderOptions(SKWebpEncoderCompression.Lossless, 100))
            ?? throw new InvalidOperationException("Skia could not encode WebP.");
        return data.ToArray();
    }

    /// <summary>
    /// A GIF with a logical screen of <paramref name="screenWidth"/> x <paramref name="screenHeight"/> and one white frame of
    /// <paramref name="width"/> x <paramref name="height"/> at its top left, about 10 KB a megapixel: the frame is LZW runs of
    /// one colour, each a pixel longer than the last, the table started over before its codes need 10 bits.
    /// </summary>
    public static byte[] GifWhiteFrame(int screenWidth, int screenHeight, int width, int height)
    {
        const int clear = 256, end = 257, white = 255;
        var codes = new List<int> { clear };
        var longest = 1; // the longest run the table holds; a run of n > 1 pixels is code 256 + n
        for (var left = (long)width * height; left > 0;)
        {
            var run = (int)Math.Min(longest, left);
            codes.Add(run == 1 ? white : 256 + run);
            left -= run;
            if (257 + longest < 500)
            {
                longest++;
            }
            else
            {
                codes.Add(clear);
                longest = 1;
            }
        }

        codes.Add(end);
        var lzw = new byte[(codes.Count * 9 + 7) / 8];
        for (var i = 0; i < codes.Count; i++)
        {
            for (var b = 0; b < 9; b++)
            {
                var bit = i * 9 + b;
                lzw[bit / 8] |= (byte)(((codes[i] >> b) & 1) << (bit % 8));
            }
        }

        using var s = new MemoryStream();
        s.Write("GIF89a"u8);
        s.Write([(byte)screenWidth, (byte)(screenWidth >> 8), (byte)screenHeight, (byte)(screenHeight >> 8), 0xF7, 0, 0]);
        for (var i = 0; i < 256; i++)
        {
            s.Write([(byte)i, (byte)i, (byte)i]);
        }

        s.Write([0x2C, 0, 0, 0, 0, (byte)width, (byte)(width >> 8), (byte)height, (byte)(height >> 8), 0, 8]);
        foreach (var block in lzw.Chunk(255))
        {
            s.WriteByte((byte)block.Length);
            s.Write(block);
        }

        s.Write([0, 0x3B]);
        return s.ToArray();
    }

    /// <summary>
    /// A gray progressive JPEG of <paramref name="side"/> x <paramref name="side"/> (at least 724, so that one end-of-band
    /// run of 8192 or more covers every block) whose DC scan and AC scan are followed by <paramref name="refinements"/> AC
    /// refinement scans of three data bytes each: every one is read over the whole image.
    /// </summary>
    public static byte[] JpegRefinementScans(int side, int refinements)
    {
        var blocks = (side + 7) / 8 * ((side + 7) / 8);
        static byte[] Segment(byte marker, params byte[] payload) => [0xFF, marker, (byte)((payload.Length + 2) >> 8), (byte)(payload.Length + 2), .. payload];
        static byte[] Bits(string bits)
        {
            bits += new string('1', (8 - bits.Length % 8) % 8);
            var bytes = new List<byte>();
            for (var i = 0; i < bits.Length; i += 8)
            {
                bytes.Add(Convert.ToByte(bits.Substring(i, 8), 2));
                if (bytes[^1] == 0xFF)
                {
                    bytes.Add(0); // stuffing
                }
            }

            return [.. bytes];
        }

        // The AC table's one symbol, EOB13 (code "0"), then 13 bits: a run of 8192 + those blocks.
        var endOfBands = Bits("0" + Convert.ToString(blocks - 8192, 2).PadLeft(13, '0'));
        var refinement = (byte[])[.. Segment(0xDA, 1, 1, 0x00, 1, 63, 0x10), .. endOfBands];
        using var s = new MemoryStream();
        s.Write([0xFF, 0xD8]);
        s.Write(Segment(0xDB, [0, .. Enumerable.Repeat((byte)1, 64)]));
        s.Write(Segment(0xC2, 8, (byte)(side >> 8), (byte)side, (byte)(side >> 8), (byte)side, 1, 1, 0x11, 0));
        s.Write(Segment(0xC4, [0x00, 1, .. new byte[15], 0])); // DC: category 0 only, code "0"
        s.Write(Segment(0xC4, [0x10, 1, .. new byte[15], 0xD0])); // AC: EOB13 only, code "0"
        s.Write([.. Segment(0xDA, 1, 1, 0x00, 0, 0, 0x00), .. Bits(new string('0', blocks))]);
        s.Write([.. Segment(0xDA, 1, 1, 0x00, 1, 63, 0x01), .. endOfBands]);
        for (var i = 0; i < refinements; i++)
        {
            s.Write(refinement);
        }

        s.Write([0xFF, 0xD9]);
        return s.ToArray();
    }

    /// <summary>Headers of every supported format declaring <paramref name="width"/> x <paramref name="height"/>, with hardly any data after them.</summary>
    public static IEnumerable<(string Format, byte[] Bytes)> HugeHeaders(int width, int height)
    {
        yield return ("PNG", TestImages.PngHeaderOnly((uint)width, (uint)height));

        var bmp = TestImages.BmpGray(4, 4, new byte[16]);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(18), width);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(22), -height);
        yield return ("BMP (top-down)", bmp);

        if (width <= 65535 && height <= 65535)
        {
            var gif = TestImages.GifGray(4, 4, new byte[16]);
            BinaryPrimitives.WriteUInt16LittleEndian(gif.AsSpan(6), (ushort)width);
            BinaryPrimitives.WriteUInt16LittleEndian(gif.AsSpan(8), (ushort)height);
            yield return ("GIF", gif);

            // SOI, then a baseline frame header: length 11, precision 8, height, width, one component.
            byte[] jpeg = [0xFF, 0xD8, 0xFF, 0xC0, 0, 11, 8, (byte)(height >> 8), (byte)height, (byte)(width >> 8), (byte)width, 1, 1, 0x11, 0, 0xFF, 0xD9];
            yield return ("JPEG", jpeg);
        }

        if (width <= 16384 && height <= 16384)
        {
            var vp8x = WebPChunk("VP8X", [0, 0, 0, 0, .. Int24(width - 1), .. Int24(height - 1)]);
            yield return ("WebP VP8X", vp8x);
            var bits = (uint)(width - 1) | (uint)(height - 1) << 14;
            var vp8l = WebPChunk("VP8L", [0x2F, (byte)bits, (byte)(bits >> 8), (byte)(bits >> 16), (byte)(bits >> 24), 0, 0, 0, 0, 0]);
            yield return ("WebP VP8L", vp8l);
        }

        if (width <= 16383 && height <= 16383)
        {
            var vp8 = WebPChunk("VP8 ", [0x10, 0x02, 0x00, 0x9D, 0x01, 0x2A, (byte)width, (byte)(width >> 8), (byte)height, (byte)(height >> 8), 0, 0]);
            yield return ("WebP VP8", vp8);
        }
    }

    private static byte[] Int24(int v) => [(byte)v, (byte)(v >> 8), (byte)(v >> 16)];

    private static byte[] WebPChunk(string type, byte[] payload)
    {
        var file = new byte[20 + payload.Length];
        "RIFF"u8.CopyTo(file);
        BinaryPrimitives.WriteInt32LittleEndian(file.AsSpan(4), file.Length - 8);
        "WEBP"u8.CopyTo(file.AsSpan(8));
        System.Text.Encoding.ASCII.GetBytes(type).CopyTo(file.AsSpan(12));
        BinaryPrimitives.WriteInt32LittleEndian(file.AsSpan(16), payload.Length);
        payload.CopyTo(file.AsSpan(20));
        return file;
    }

    /// <summary>The JPEG with its first scan's data cut to <paramref name="fraction"/> and closed with an end-of-image marker, as a careless truncation tool leaves it.</summary>
    public static byte[] JpegScanCut(byte[] jpeg, double fraction)
    {
        var (start, end) = FirstScanData(jpeg);
        return [.. jpeg[..start], .. jpeg[start..(start + (int)((end - start) * fraction))], 0xFF, 0xD9];
    }

    /// <summary>
    /// The JPEG with the data of every scan replaced by seeded random bytes (never 0xFF, so no marker is
    /// forged): valid tables and headers, garbage where the pixels are.
    /// </summary>
    public static byte[] JpegRandomScans(byte[] jpeg, int seed)
    {
        var random = new Random(seed);
        var damaged = (byte[])jpeg.Clone();
        var i = 2;
        while (i + 4 <= damaged.Length && damaged[i + 1] != 0xD9)
        {
            var length = BinaryPrimitives.ReadUInt16BigEndian(damaged.AsSpan(i + 2));
            i += 2 + length;
            if (damaged[i - length - 1] != 0xDA)
            {
                continue;
            }

            // Scan data runs to the next marker other than a restart marker or a stuffed zero.
            for (; i + 1 < damaged.Length && !(damaged[i] == 0xFF && damaged[i + 1] != 0 && damaged[i + 1] is < 0xD0 or > 0xD7); i++)
            {
                if (damaged[i] != 0xFF && (i == 0 || damaged[i - 1] != 0xFF))
                {
                    damaged[i] = (byte)random.Next(0xFF);
                }
            }
        }

        return damaged;
    }

    /// <summary>The JPEG with its frame header declaring <paramref name="width"/> x <paramref name="height"/>, its scan data unchanged.</summary>
    public static byte[] JpegFrameSize(byte[] jpeg, int width, int height)
    {
        var damaged = (byte[])jpeg.Clone();
        var sof = FrameHeader(damaged);
        BinaryPrimitives.WriteUInt16BigEndian(damaged.AsSpan(sof + 5), (ushort)height);
        BinaryPrimitives.WriteUInt16BigEndian(damaged.AsSpan(sof + 7), (ushort)width);
        return damaged;
    }

    /// <summary>The JPEG with its frame header saying extended sequential with <paramref name="bits"/>-bit samples.</summary>
    public static byte[] JpegPrecision(byte[] jpeg, int bits)
    {
        var changed = (byte[])jpeg.Clone();
        var sof = FrameHeader(changed);
        changed[sof + 1] = 0xC1;
        changed[sof + 4] = (byte)bits;
        return changed;
    }

    /// <summary>An 8-bit palette BMP (gray ramp palette) whose header declares <paramref name="coloursUsed"/> palette entries.</summary>
    public static byte[] BmpPaletteDeclaring(int width, int height, ReadOnlySpan<byte> indices, uint coloursUsed)
    {
        var stride = (width + 3) & ~3;
        var offset = 14 + 40 + 256 * 4;
        var bmp = new byte[offset + stride * height];
        "BM"u8.CopyTo(bmp);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(2), bmp.Length);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(10), offset);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(14), 40);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(18), width);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(22), -height);
        BinaryPrimitives.WriteInt16LittleEndian(bmp.AsSpan(26), 1);
        BinaryPrimitives.WriteInt16LittleEndian(bmp.AsSpan(28), 8);
        BinaryPrimitives.WriteUInt32LittleEndian(bmp.AsSpan(46), coloursUsed);
        for (var i = 0; i < 256; i++)
        {
            bmp[54 + i * 4] = bmp[54 + i * 4 + 1] = bmp[54 + i * 4 + 2] = (byte)i;
        }

        for (var y = 0; y < height; y++)
        {
            indices.Slice(y * width, width).CopyTo(bmp.AsSpan(offset + y * stride));
        }

        return bmp;
    }

    private static int FrameHeader(byte[] jpeg)
    {
        for (var i = 2; i + 4 <= jpeg.Length; i += 2 + BinaryPrimitives.ReadUInt16BigEndian(jpeg.AsSpan(i + 2)))
        {
            if (jpeg[i + 1] is 0xC0 or 0xC1 or 0xC2)
            {
                return i;
            }
        }

        throw new ArgumentException("no frame header", nameof(jpeg));
    }

    private static (int Start, int End) FirstScanData(byte[] jpeg)
    {
        for (var i = 2; i + 4 <= jpeg.Length; i += 2 + BinaryPrimitives.ReadUInt16BigEndian(jpeg.AsSpan(i + 2)))
        {
            if (jpeg[i + 1] == 0xDA)
            {
                var start = i + 2 + BinaryPrimitives.ReadUInt16BigEndian(jpeg.AsSpan(i + 2));
                var end = start;
                while (!(jpeg[end] == 0xFF && jpeg[end + 1] != 0 && jpeg[end + 1] is < 0xD0 or > 0xD7))
                {
                    end++;
                }

                return (start, end);
            }
        }

        throw new ArgumentException("no scan", nameof(jpeg));
    }
}
