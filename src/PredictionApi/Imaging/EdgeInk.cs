namespace PredictionApi.Imaging;

/// <summary>
/// Ink along the picture's edges that is not the digit: a frame's line, a scanner's border, the dark table beyond the
/// page's edge. Such ink spreads the digit's box over the whole picture and shrinks the digit to a speck.
/// </summary>
internal static class EdgeInk
{
    // A piece of ink runs along a side when it spans this share of the side within the side's band.
    private const float AlongSide = 0.8f;

    // More pieces than this is noise or texture, not a digit in a frame: nothing is cleared.
    private const int MaxPieces = 4096;

    // Ink over more than this share of the picture is a texture or a photograph, not a digit on paper: nothing is cleared.
    private const float MaxInkShare = 0.4f;

    // The box spans this share of the picture one way or the other before edge ink is looked for: otherwise there is none.
    private const float FullBox = 0.9f;

    /// <summary>
    /// Clears the pieces of ink (8-connected pixels above <paramref name="threshold"/>) that run along a side, when
    /// everything else (specks aside) lies clear of the picture's edges: a digit cropped to its ink touches them, and
    /// then nothing is cleared. True when something was.
    /// </summary>
    public static bool Erase(Span<float> plane, int width, int height, float threshold, (int X, int Y, int W, int H) box)
    {
        if (box.W < FullBox * width && box.H < FullBox * height)
        {
            return false;
        }

        var length = width * height;
        var ink = 0;
        foreach (var v in plane[..length])
        {
            ink += v > threshold ? 1 : 0;
        }

        if (ink > MaxInkShare * length)
        {
            return false;
        }

        // The sides' bands are the ring the ground was fitted to.
        var band = Ground.RingDepth(width, height);
        var labels = Scratch<int>.Rent(length);
        var stack = Scratch<int>.Rent(length);
        try
        {
            var label = labels.AsSpan(0, length);
            label.Clear();
            // A piece larger than a speck that reaches an edge without running along it ends the search: the digit
            // itself reaches the edge (cropped to its ink), and what runs along a side may be its own stroke.
            var speck = Math.Max(2, length / 10_000);
            var alongSide = new List<bool>();
            long rest = 0;
            for (var start = 0; start < length; start++)
            {
                if (label[start] != 0 || plane[start] <= threshold)
                {
                    continue;
                }

                if (alongSide.Count == MaxPieces)
                {
                    return false;
                }

                var piece = Flood(plane, width, height, threshold, band, label, stack, start, alongSide.Count + 1);
                var runs = piece.RunsAlongSide(width, height, AlongSide);
                if (!runs && piece.TouchesEdge && piece.Pixels >= speck)
                {
                    return false;
                }

                alongSide.Add(runs);
                rest += runs ? 0 : piece.Pixels;
            }

            if (rest == 0 || !alongSide.Contains(true))
            {
                return false;
            }

            for (var i = 0; i < length; i++)
            {
                if (label[i] != 0 && alongSide[label[i] - 1])
                {
                    plane[i] = 0;
                }
            }

            return true;
        }
        finally
        {
            Scratch<int>.Return(labels);
            Scratch<int>.Return(stack);
        }
    }

    private static Piece Flood(ReadOnlySpan<float> plane, int width, int height, float threshold, int band, Span<int> label, int[] stack, int start, int id)
    {
        var piece = new Piece(band);
        var top = 0;
        stack[top++] = start;
        label[start] = id;
        while (top > 0)
        {
            var i = stack[--top];
            var (x, y) = (i % width, i / width);
            piece.Add(x, y, width, height);
            for (var ny = Math.Max(0, y - 1); ny <= Math.Min(height - 1, y + 1); ny++)
            {
                for (var nx = Math.Max(0, x - 1); nx <= Math.Min(width - 1, x + 1); nx++)
                {
                    var j = ny * width + nx;
                    if (label[j] == 0 && plane[j] > threshold)
                    {
                        label[j] = id;
                        stack[top++] = j;
                    }
                }
            }
        }

        return piece;
    }
}
