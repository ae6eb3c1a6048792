namespace PredictionApi.Imaging;

/// <summary>
/// Separable resampling of one float plane: area averaging when shrinking (every source pixel counts
/// in proportion to its overlap, which is how MNIST's anti-aliased digits were made) and bilinear when
/// enlarging. Written here rather than delegated to Skia so results are exact and stable across versions.
/// </summary>
internal static class Resampler
{
    /// <summary>
    /// Resamples the source rectangle (<paramref name="x"/>, <paramref name="y"/>, <paramref name="w"/>,
    /// <paramref name="h"/>, in source pixels, may be fractional) of a <paramref name="srcWidth"/> x
    /// <paramref name="srcHeight"/> plane into a <paramref name="dstWidth"/> x <paramref name="dstHeight"/> plane.
    /// </summary>
    public static void Resize(ReadOnlySpan<float> src, int srcWidth, int srcHeight, float x, float y, float w, float h,
        Span<float> dst, int dstWidth, int dstHeight)
    {
        var xs = AxisWeights.Build(srcWidth, x, w, dstWidth);
        var ys = AxisWeights.Build(srcHeight, y, h, dstHeight);
        // Only the source rows some output row reads need the horizontal pass.
        var firstRow = ys.MinIndex;
        var rows = ys.MaxIndex - firstRow + 1;
        var tmp = Scratch<float>.Rent(rows * dstWidth);
        try
        {
            for (var r = 0; r < rows; r++)
            {
                var srcRow = src.Slice((firstRow + r) * srcWidth, srcWidth);
                var tmpRow = tmp.AsSpan(r * dstWidth, dstWidth);
                for (var o = 0; o < dstWidth; o++)
                {
                    tmpRow[o] = xs.Apply(o, srcRow, stride: 1, offset: 0);
                }
            }

            for (var o = 0; o < dstHeight; o++)
            {
                var dstRow = dst.Slice(o * dstWidth, dstWidth);
                for (var c = 0; c < dstWidth; c++)
                {
                    dstRow[c] = ys.Apply(o, tmp, stride: dstWidth, offset: c - firstRow * dstWidth);
                }
            }
        }
        finally
        {
            Scratch<float>.Return(tmp);
        }
    }

    /// <summary>For each output index along one axis: the first source index and the weights from there on.</summary>
    private sealed class AxisWeights
    {
        private readonly int[] _start;
        private readonly int[] _count;
        private readonly float[] _weights;
        private readonly int _taps;

        private AxisWeights(int outputs, int taps)
        {
            _start = new int[outputs];
            _count = new int[outputs];
            _weights = new float[outputs * taps];
            _taps = taps;
        }

        public int MinIndex { get; private set; } = int.MaxValue;

        public int MaxIndex { get; private set; } = int.MinValue;

        public static AxisWeights Build(int srcSize, float start, float extent, int dstSize)
        {
            var scale = extent / dstSize;
            var taps = scale > 1 ? (int)Math.Ceiling(scale) + 2 : 2;
            var axis = new AxisWeights(dstSize, taps);
            for (var o = 0; o < dstSize; o++)
            {
                var centre = start + (o + 0.5f) * scale;
                var weights = axis._weights.AsSpan(o * taps, taps);
                int first, count;
                if (scale > 1)
                {
                    // Area: each source pixel [i, i+1) weighs its overlap with [lo, hi), clipped to the image.
                    var lo = Math.Max(0f, centre - scale / 2);
                    var hi = Math.Min(srcSize, centre + scale / 2);
                    first = Math.Clamp((int)MathF.Floor(lo), 0, srcSize - 1);
                    var last = Math.Clamp((int)MathF.Ceiling(hi) - 1, first, srcSize - 1);
                    count = last - first + 1;
                    var total = 0f;
                    for (var k = 0; k < count; k++)
                    {
                        var i = first + k;
                        var overlap = Math.Max(0f, Math.Min(i + 1, hi) - Math.Max(i, lo));
                        weights[k] = overlap;
                        total += overlap;
                    }

                    if (total <= 0)
                    {
                        weights[0] = total = 1;
                    }

                    for (var k = 0; k < count; k++)
                    {
                        weights[k] /= total;
                    }
                }
                else
                {
                    // Bilinear between the two nearest pixel centres; edges repeat the last pixel.
                    var p = centre - 0.5f;
                    var i0 = (int)MathF.Floor(p);
                    var f = p - i0;
                    if (i0 < 0)
                    {
                        (i0, f) = (0, 0);
                    }

                    if (i0 >= srcSize - 1)
                    {
                        (i0, f) = (srcSize - 1, 0);
                    }

                    first = i0;
                    count = f > 0 ? 2 : 1;
                    weights[0] = 1 - f;
                    if (count == 2)
                    {
                        weights[1] = f;
                    }
                }

                axis._start[o] = first;
                axis._count[o] = count;
                axis.MinIndex = Math.Min(axis.MinIndex, first);
                axis.MaxIndex = Math.Max(axis.MaxIndex, first + count - 1);
            }

            return axis;
        }

        public float Apply(int output, ReadOnlySpan<float> source, int stride, int offset)
        {
            var weights = _weights.AsSpan(output * _taps, _count[output]);
            var index = offset + _start[output] * stride;
            var sum = 0f;
            foreach (var w in weights)
            {
                sum += w * source[index];
                index += stride;
            }

            return sum;
        }
    }
}
