using System.Buffers.Binary;

namespace PredictionApi.Imaging;

/// <summary>
/// What the first bytes of an upload say it is: the format (by magic bytes, never by the declared
/// content type or file name) and the dimensions its header declares, read before any decoding so a
/// small file claiming an enormous canvas is refused without allocating for it.
/// </summary>
public readonly record struct ImageHeader(ImageFormat Format, int Width, int Height)
{
    // Not a u8 literal: "\x89" would be encoded as the two UTF-8 bytes of U+0089.
    private static ReadOnlySpan<byte> PngSignature => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    public long Pixels => (long)Width * Height;

    public string ContentType => Format switch
    {
        ImageFormat.Png => "image/png",
        ImageFormat.Jpeg => "image/jpeg",
        ImageFormat.Gif => "image/gif",
        ImageFormat.Bmp => "image/bmp",
        ImageFormat.WebP => "image/webp",
        _ => "application/octet-stream",
    };

    /// <summary>Identifies the format from magic bytes; null when the bytes are no supported image.</summary>
    public static ImageFormat? Sniff(ReadOnlySpan<byte> data)
    {
        if (data.StartsWith(PngSignature))
        {
            return ImageFormat.Png;
        }

        if (data.Length >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF)
        {
            return ImageFormat.Jpeg;
        }

        if (data.StartsWith("GIF87a"u8) || data.StartsWith("GIF89a"u8))
        {
            return ImageFormat.Gif;
        }

        if (data.StartsWith("BM"u8) && data.Length >= 18)
        {
            // "BM" alone is too weak a signal; also require a known DIB header size.
            var dibSize = BinaryPrimitives.ReadUInt32LittleEndian(data[14..]);
            return dibSize is 12 or 16 or 40 or 52 or 56 or 64 or 108 or 124 ? ImageFormat.Bmp : null;
        }

        if (data.Length >= 12 && data.StartsWith("RIFF"u8) && data[8..].StartsWith("WEBP"u8))
        {
            return ImageFormat.WebP;
        }

        return null;
    }

    /// <summary>
    /// Reads the declared dimensions from the header of an image in <paramref name="format"/>;
    /// null when the header is cut short or malformed.
    /// </summary>
    public static ImageHeader? Read(ImageFormat format, ReadOnlySpan<byte> data)
    {
        var size = format switch
        {
            ImageFormat.Png => ReadPng(data),
            ImageFormat.Jpeg => ReadJpeg(data),
            ImageFormat.Gif => ReadGif(data),
            ImageFormat.Bmp => ReadBmp(data),
            ImageFormat.WebP => ReadWebP(data),
            _ => null,
        };
        return size is { } s && s.Width > 0 && s.Height > 0 ? new ImageHeader(format, s.Width, s.Height) : null;
    }

    private static (int Width, int Height)? ReadPng(ReadOnlySpan<byte> data)
    {
        // Signature (8), then the IHDR chunk: length (4), "IHDR", width, height as big-endian uint32.
        if (data.Length < 24 || !data[12..].StartsWith("IHDR"u8))
        {
            return null;
        }

        var width = BinaryPrimitives.ReadUInt32BigEndian(data[16..]);
        var height = BinaryPrimitives.ReadUInt32BigEndian(data[20..]);
        return width > int.MaxValue || height > int.MaxValue ? null : ((int)width, (int)height);
    }

    /// <summary>
    /// The logical screen, enlarged to hold the first frame as the decoder enlarges it: a frame may lie beyond the screen,
    /// and a file declaring a 1x1 screen over a 4000x4000 frame is decoded at 4000x4000. A zero-sized screen stays malformed.
    /// </summary>
    private static (int Width, int Height)? ReadGif(ReadOnlySpan<byte> data)
    {
        if (data.Length < 13)
        {
            return null;
        }

        int width = BinaryPrimitives.ReadUInt16LittleEndian(data[6..]), height = BinaryPrimitives.ReadUInt16LittleEndian(data[8..]);
        if (width == 0 || height == 0)
        {
            return null;
        }

        // Past the global colour table, then the extensions (label and sub-blocks) up to the first image descriptor.
        var i = 13 + ((data[10] & 0x80) != 0 ? 3 << ((data[10] & 7) + 1) : 0);
        while (i + 1 < data.Length && data[i] == 0x21)
        {
            for (i += 2; i < data.Length && data[i] != 0; i += data[i] + 1)
            {
            }

            i++;
        }

        if (i + 9 <= data.Length && data[i] == 0x2C)
        {
            var frame = data[(i + 1)..];
            width = Math.Max(width, BinaryPrimitives.ReadUInt16LittleEndian(frame) + BinaryPrimitives.ReadUInt16LittleEndian(frame[4..]));
            height = Math.Max(height, BinaryPrimitives.ReadUInt16LittleEndian(frame[2..]) + BinaryPrimitives.ReadUInt16LittleEndian(frame[6..]));
        }

        return (width, height);
    }

    private static (int Width, int Height)? ReadBmp(ReadOnlySpan<byte> data)
    {
        if (data.Length < 26)
        {
            return null;
        }

        var dibSize = BinaryPrimitives.ReadUInt32LittleEndian(data[14..]);
        if (dibSize == 12)
        {
            return (BinaryPrimitives.ReadUInt16LittleEndian(data[18..]), BinaryPrimitives.ReadUInt16LittleEndian(data[20..]));
        }

        var width = BinaryPrimitives.ReadInt32LittleEndian(data[18..]);
        var height = BinaryPrimitives.ReadInt32LittleEndian(data[22..]);
        // A negative height marks a top-down bitmap.
        return width <= 0 || height == int.MinValue ? null : (width, Math.Abs(height));
    }

    private static (int Width, int Height)? ReadWebP(ReadOnlySpan<byte> data)
    {
        if (data.Length < 30)
        {
            return null;
        }

        var chunk = data.Slice(12, 4);
        if (chunk.SequenceEqual("VP8 "u8))
        {
            // Lossy: a frame tag (3), start code 9D 01 2A, then 14-bit width and height.
            if (data[23] != 0x9D || data[24] != 0x01 || data[25] != 0x2A)
            {
                return null;
            }

            return (BinaryPrimitives.ReadUInt16LittleEndian(data[26..]) & 0x3FFF, BinaryPrimitives.ReadUInt16LittleEndian(data[28..]) & 0x3FFF);
        }

        if (chunk.SequenceEqual("VP8L"u8))
        {
            // Lossless: signature 0x2F, then width-1 and height-1 as 14-bit fields.
            if (data[20] != 0x2F)
            {
                return null;
            }

            var bits = BinaryPrimitives.ReadUInt32LittleEndian(data[21..]);
            return ((int)(bits & 0x3FFF) + 1, (int)((bits >> 14) & 0x3FFF) + 1);
        }

        if (chunk.SequenceEqual("VP8X"u8))
        {
            // Extended: canvas width-1 and height-1 as 24-bit little-endian fields.
            var width = data[24] | data[25] << 8 | data[26] << 16;
            var height = data[27] | data[28] << 8 | data[29] << 16;
            return (width + 1, height + 1);
        }

        return null;
    }

    private static (int Width, int Height)? ReadJpeg(ReadOnlySpan<byte> data)
    {
        // Walk the marker segments up to the first start-of-frame, which carries the dimensions.
        var i = 2;
        while (i + 4 <= data.Length)
        {
            if (data[i] != 0xFF)
            {
                return null;
            }

            var marker = data[i + 1];
            if (marker == 0xFF)
            {
                i++; // fill byte
                continue;
            }

            if (marker is 0xD8 or 0x01 or (>= 0xD0 and <= 0xD7))
            {
                i += 2; // markers without a length
                continue;
            }

            var length = BinaryPrimitives.ReadUInt16BigEndian(data[(i + 2)..]);
            if (length < 2)
            {
                return null;
            }

            // SOF0..SOF15, except DHT (C4), JPG (C8) and DAC (CC).
            if (marker is >= 0xC0 and <= 0xCF and not 0xC4 and not 0xC8 and not 0xCC)
            {
                if (i + 9 > data.Length)
                {
                    return null;
                }

                var height = BinaryPrimitives.ReadUInt16BigEndian(data[(i + 5)..]);
                var width = BinaryPrimitives.ReadUInt16BigEndian(data[(i + 7)..]);
                return (width, height);
            }

            if (marker is 0xDA or 0xD9)
            {
                return null; // scan data or end of image before any frame header
            }

            i += 2 + length;
        }

        return null;
    }
}
