using System.Buffers.Binary;
using SkiaSharp;

namespace PredictionApi.Imaging;

/// <summary>
/// The chunks of a PNG that make its pixels (IHDR, PLTE, tRNS, IDAT, IEND), copied for the decoder
/// without the rest. Text, EXIF, colour profiles and the like never change what this service decodes
/// (it decodes without colour management and ignores PNG orientation), but the decoder buffers each such
/// chunk whole, growing its buffer step by step: one 9 MB text chunk cost a fresh process a minute of CPU.
/// </summary>
internal static class PngChunks
{
    // tRNS is 256 bytes at most (a palette's alphas); a larger one is invalid and ignored by decoders anyway.
    private const int MaxTransparencyBytes = 256;

    /// <summary>
    /// The essential chunks of <paramref name="png"/> (signature included) as decoder input; throws
    /// <see cref="ImageRejectedException"/> for a chunk the PNG standard says makes the file undecodable.
    /// Bytes after IEND are dropped. A file cut short keeps its last critical chunk as far as it goes, so the
    /// decoder still reports it as truncated.
    /// </summary>
    public static SKData Essential(ReadOnlySpan<byte> png)
    {
        var size = Walk(png, default);
        var data = SKData.Create(size);
        try
        {
            Walk(png, data.Span);
            return data;
        }
        catch
        {
            data.Dispose();
            throw;
        }
    }

    /// <summary>Copies the kept chunks into <paramref name="output"/> when it is not empty; returns their length.</summary>
    private static long Walk(ReadOnlySpan<byte> png, Span<byte> output)
    {
        const int signature = 8;
        var written = 0;
        Keep(png[..signature], output, ref written);
        var i = signature;
        while (png.Length - i >= 8)
        {
            var length = BinaryPrimitives.ReadUInt32BigEndian(png[i..]);
            var type = png.Slice(i + 4, 4);
            foreach (var c in type)
            {
                if (!char.IsAsciiLetter((char)c))
                {
                    throw ImageRejectedException.Corrupt(ImageFormat.Png, "a chunk at byte " + i + " has no valid chunk type (the chunk list is damaged)");
                }
            }

            if (length > int.MaxValue)
            {
                throw ImageRejectedException.Corrupt(ImageFormat.Png, $"its '{Name(type)}' chunk declares a length over 2 GB");
            }

            // An upper-case first letter marks a chunk that decoders must understand to show the image.
            var critical = char.IsAsciiLetterUpper((char)type[0]);
            var known = type.SequenceEqual("IHDR"u8) || type.SequenceEqual("PLTE"u8) || type.SequenceEqual("IDAT"u8) || type.SequenceEqual("IEND"u8);
            if (critical && !known)
            {
                throw ImageRejectedException.Corrupt(ImageFormat.Png,
                    $"it contains a chunk '{Name(type)}' marked critical that is not part of the PNG standard; the standard says such a file cannot be decoded");
            }

            // The decoder buffers these whole too; the standard fixes their sizes, so anything else is damage.
            if (type.SequenceEqual("IHDR"u8) && length != 13 || type.SequenceEqual("IEND"u8) && length != 0
                || type.SequenceEqual("PLTE"u8) && (length is 0 or > 768 || length % 3 != 0))
            {
                throw ImageRejectedException.Corrupt(ImageFormat.Png, $"its '{Name(type)}' chunk has an impossible length ({length} bytes)");
            }

            var end = (long)i + 12 + length;
            if (end > png.Length)
            {
                // Cut short: pass on what there is of a critical chunk, so the decoder reports the image truncated.
                if (critical)
                {
                    Keep(png[i..], output, ref written);
                }

                break;
            }

            var kept = critical || type.SequenceEqual("tRNS"u8) && length <= MaxTransparencyBytes;
            if (kept)
            {
                Keep(png[i..(int)end], output, ref written);
            }

            if (type.SequenceEqual("IEND"u8))
            {
                break;
            }

            i = (int)end;
        }

        return written;
    }

    private static void Keep(ReadOnlySpan<byte> chunk, Span<byte> output, ref int written)
    {
        if (!output.IsEmpty)
        {
            chunk.CopyTo(output[written..]);
        }

        written += chunk.Length;
    }

    private static string Name(ReadOnlySpan<byte> type) => System.Text.Encoding.ASCII.GetString(type);
}
