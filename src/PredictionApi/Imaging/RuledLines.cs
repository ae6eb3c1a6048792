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

        Erase(plane, lines: height, along: width, lineStride: width, alongStride: 1);
        Erase(plane, lines: width, along: height, lineStride: 1, alongStride: width);
    }

    /// <summary>One direction: <paramref name="lines"/> lines of <paramref name="along"/> pixels each.</summary>
    private static void Erase(Span<float> plane, int lines, int along, int lineStride, int alongStride)
    {
        var medians = Scratch<float>.Rent(lines);
        try
        {
            var level = medians.AsSpan(0, lines);
            for (var n = 0; n < lines; n++)
            {
                level[n] = Median(plane, n, along, lineStride, alongStride);
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

        var seen = 0;
        for (var v = 0; v < 256; v++)
        {
            seen += counts[v];
            if (2 * seen >= along)
            {
                return v;
            }
        }

        return 255;
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
