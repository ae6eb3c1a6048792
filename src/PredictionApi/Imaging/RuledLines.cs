namespace PredictionApi.Imaging;

/// <summary>
/// The printed lines of lined or squared paper, and a frame's thin lines: rows (or columns) whose median is ink, in
/// thin runs. Left in, they stretch the digit's box across the picture, and the digit shrinks to a speck. Taking each
/// such row's median away removes the line and keeps the strokes that cross it, which are darker than the line.
/// </summary>
internal static class RuledLines
{
    // A row whose median is above this (of 255) lies on a line.
    private const float LineLevel = 25;

    // A line is at most this share of the picture thick (and at least two pixels are allowed): a digit that fills the
    // picture has rows whose median is ink too (a 7's bar), but its strokes are thicker than this.
    private const float MaxThickness = 0.03f;

    // Smaller pictures are a digit alone (a canvas, a crop), not a page with lines.
    private const int MinSide = 64;

    /// <summary>Takes the lines out of <paramref name="plane"/> (ink 0..255), rows first, then columns.</summary>
    public static void Erase(Span<float> plane, int width, int height)
    {
        if (Math.Min(width, height) < MinSide)
        {
            return;
        }

        // A line's median is ink only if half its pixels are: counting them (row by row, in memory order) spares the
        // median of every other row and column, the columns' being a slow walk across memory.
        var counts = Scratch<int>.Rent(Math.Max(width, height));
        try
        {
            var rows = counts.AsSpan(0, height);
            for (var y = 0; y < height; y++)
            {
                rows[y] = Inked(plane.Slice(y * width, width));
            }

            Erase(plane, rows, lines: height, along: width, lineStride: width, alongStride: 1);
            var columns = counts.AsSpan(0, width);
            columns.Clear();
            for (var y = 0; y < height; y++)
            {
                var row = plane.Slice(y * width, width);
                for (var x = 0; x < width; x++)
                {
                    columns[x] += row[x] > LineLevel ? 1 : 0;
                }
            }

            Erase(plane, columns, lines: width, along: height, lineStride: 1, alongStride: width);
        }
        finally
        {
            Scratch<int>.Return(counts);
        }
    }

    private static int Inked(ReadOnlySpan<float> row)
    {
        var inked = 0;
        foreach (var v in row)
        {
            inked += v > LineLevel ? 1 : 0;
        }

        return inked;
    }

    /// <summary>One direction: <paramref name="lines"/> lines of <paramref name="along"/> pixels each, <paramref name="inked"/> of them above the line level.</summary>
    private static void Erase(Span<float> plane, ReadOnlySpan<int> inked, int lines, int along, int lineStride, int alongStride)
    {
        var medians = Scratch<float>.Rent(lines);
        try
        {
            var level = medians.AsSpan(0, lines);
            for (var n = 0; n < lines; n++)
            {
                level[n] = 2 * inked[n] >= along ? Median(plane, n, along, lineStride, alongStride) : 0;
            }

            var thickest = Math.Max(2, (int)(MaxThickness * lines));
            var first = -1;
            for (var n = 0; n <= lines; n++)
            {
                if (n < lines && level[n] > LineLevel)
                {
                    first = first < 0 ? n : first;
                    continue;
                }

                if (first >= 0 && n - first <= thickest)
                {
                    for (var line = first; line < n; line++)
                    {
                        Lower(plane, line, level[line], along, lineStride, alongStride);
                    }
                }

                first = -1;
            }
        }
        finally
        {
            Scratch<float>.Return(medians);
        }
    }

    /// <summary>The median of one line's pixels, to the nearest level.</summary>
    private static float Median(ReadOnlySpan<float> plane, int n, int along, int lineStride, int alongStride)
    {
        Span<int> counts = stackalloc int[256];
        counts.Clear();
        for (var j = 0; j < along; j++)
        {
            counts[Math.Clamp((int)plane[n * lineStride + j * alongStride], 0, 255)]++;
        }

        return LevelHistogram.Median(counts, along);
    }

    private static void Lower(Span<float> plane, int n, float by, int along, int lineStride, int alongStride)
    {
        for (var j = 0; j < along; j++)
        {
            ref var v = ref plane[n * lineStride + j * alongStride];
            v = Math.Max(0, v - by);
        }
    }
}
