namespace PredictionApi.Imaging;

/// <summary>An sRGB colour (alpha is composited onto it; <see cref="ResizeMode.Fit"/> pads with it).</summary>
public readonly record struct Rgb(byte R, byte G, byte B)
{
    public static Rgb White => new(255, 255, 255);

    public override string ToString() => $"#{R:x2}{G:x2}{B:x2}";

    public static bool TryParse(string? text, out Rgb colour)
    {
        colour = White;
        if (text is not { Length: 7 } || text[0] != '#' || !uint.TryParse(text.AsSpan(1), System.Globalization.NumberStyles.HexNumber, null, out var v))
        {
            return false;
        }

        colour = new Rgb((byte)(v >> 16), (byte)(v >> 8), (byte)v);
        return true;
    }
}
