using System.Buffers.Binary;

namespace PredictionApi.Imaging;

/// <summary>
/// The palette size a BMP header declares. Decoders clamp an impossible count and decode the file anyway,
/// but a bitmap claiming two billion colours was not written by any encoder: it is damaged or forged.
/// </summary>
internal static class BmpPalette
{
    /// <summary>Throws <see cref="ImageRejectedException"/> when the declared colour count cannot be right.</summary>
    public static void Check(ReadOnlySpan<byte> bmp)
    {
        // BITMAPINFOHEADER and later: bit count at 28, colours used at 46 (14-byte file header first).
        var dibSize = BinaryPrimitives.ReadUInt32LittleEndian(bmp[14..]);
        if (dibSize < 40 || bmp.Length < 50)
        {
            return;
        }

        var bitCount = BinaryPrimitives.ReadUInt16LittleEndian(bmp[28..]);
        var colours = BinaryPrimitives.ReadUInt32LittleEndian(bmp[46..]);
        // Up to 8 bits a pixel indexes the palette; deeper bitmaps may carry one only as a hint, inside the file.
        var most = bitCount <= 8 ? 1u << bitCount : (uint)(bmp.Length / 4);
        if (colours > most)
        {
            throw ImageRejectedException.Corrupt(ImageFormat.Bmp,
                $"its header declares {colours} palette colours, more than a {bitCount}-bit bitmap of {bmp.Length} bytes can have ({most})");
        }
    }
}
