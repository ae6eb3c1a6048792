namespace PredictionApi.Mnist;

/// <summary>
/// A set of equally sized 8-bit grayscale images read from an IDX file, stored row-major one after another.
/// </summary>
/// <param name="Count">Number of images.</param>
/// <param name="Rows">Height of every image in pixels.</param>
/// <param name="Columns">Width of every image in pixels.</param>
/// <param name="Pixels">All pixels, <c>Count * Rows * Columns</c> bytes, 0 = background, 255 = full ink (MNIST convention).</param>
public sealed record IdxImages(int Count, int Rows, int Columns, byte[] Pixels)
{
    /// <summary>Pixels of one image.</summary>
    public int PixelsPerImage => Rows * Columns;

    /// <summary>The pixels of image <paramref name="index"/>, row-major, without copying.</summary>
    public ReadOnlySpan<byte> Image(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        return Pixels.AsSpan(index * PixelsPerImage, PixelsPerImage);
    }
}
