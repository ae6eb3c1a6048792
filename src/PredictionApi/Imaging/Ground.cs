namespace PredictionApi.Imaging;

/// <summary>
/// The ground a digit is written on, as a plane over the picture: its level at the centre, its slope along each axis
/// (light falling off across a photographed page), and the spread of the ground around that plane (grain, noise).
/// </summary>
internal readonly record struct Ground(float Level, float SlopeX, float SlopeY, float Spread)
{
    // Ring pixels further than this from the plane (in spreads, and at least MinTolerance levels) are not ground.
    private const float Tolerance = 3;
    private const float MinTolerance = 8;

    // The ring is cut into this many cells along each side; each cell's median is one robust sample of the ground.
    private const int CellsPerSide = 4;

    // A cell agrees with a plane when its median lies within this many levels of it.
    private const float CellAgreement = 10;

    /// <summary>
    /// Fits the ground to a ring along the picture's edges. The ring can hold things that are not paper (a frame's line,
    /// the table beyond the page, a stroke that reaches the edge), so the fit starts from the plane most of the ring's
    /// cells agree with, and is refined (up to three times, until it settles) over the ring pixels near the current
    /// plane: the paper decides the ground, not the mean of whatever the edges hold.
    /// </summary>
    public static Ground Fit(ReadOnlySpan<float> gray, int width, int height)
    {
        var buffer = Scratch<RingSample>.Rent(RingSize(width, height));
        try
        {
            var ring = Sample(gray, width, height, buffer);
            var ground = Robust(ring);
            for (var pass = 0; pass < 3; pass++)
            {
                var refined = Refine(ring, ground);
                var settled = Math.Abs(refined.Level - ground.Level) < 0.01f && Math.Abs(refined.SlopeX - ground.SlopeX) < 1e-5f
                    && Math.Abs(refined.SlopeY - ground.SlopeY) < 1e-5f;
                ground = refined;
                if (settled)
                {
                    break;
                }
            }

            return ground;
        }
        finally
        {
            Scratch<RingSample>.Return(buffer);
        }
    }

    /// <summary>Depth of the ring along a picture's edges where the ground is looked for, in pixels.</summary>
    public static int RingDepth(int width, int height) => Math.Max(1, Math.Min(width, height) / 16);

    /// <summary>The plane's value at a pixel.</summary>
    public float At(int x, int y, int width, int height) => At(x - (width - 1) / 2f, y - (height - 1) / 2f);

    /// <summary>The plane's value at an offset from the picture's centre.</summary>
    private float At(float dx, float dy) => Level + SlopeX * dx + SlopeY * dy;

    /// <summary>At least as many samples as <see cref="Sample"/> takes from a picture of this size.</summary>
    private static int RingSize(int width, int height)
    {
        var ring = RingDepth(width, height);
        var step = Step(ring);
        // A row between the top and bottom bands gives at most both side bands' depth of samples; the rows within the
        // top and bottom bands, at most that many, give a whole row each.
        var acrossBands = 2 * ((ring + step - 1) / step);
        return acrossBands * ((width + step - 1) / step + (height + step - 1) / step);
    }

    /// <summary>
    /// The ring's pixels (every <see cref="Step"/>th row and column of it), each with its offset from the centre and its
    /// cell, taken once for all the passes of the fit.
    /// </summary>
    private static ReadOnlySpan<RingSample> Sample(ReadOnlySpan<float> gray, int width, int height, RingSample[] buffer)
    {
        var ring = RingDepth(width, height);
        var step = Step(ring);
        var (midX, midY) = ((width - 1) / 2f, (height - 1) / 2f);
        var count = 0;
        for (var y = 0; y < height; y += step)
        {
            var edgeRow = EdgeRow(y, height, ring);
            for (var x = 0; x < width; x = Next(x, edgeRow, width, ring, step))
            {
                buffer[count++] = new(x - midX, y - midY, gray[y * width + x], Cell(x, y, width, height, ring));
            }
        }

        return buffer.AsSpan(0, count);
    }

    /// <summary>Whether row <paramref name="y"/> lies wholly in the ring.</summary>
    private static bool EdgeRow(int y, int height, int ring) => y < ring || y >= height - ring;

    /// <summary>
    /// Every how many rows and columns the ring is sampled: all of it on small pictures, about 16 samples across its
    /// depth on large ones, which is plenty for medians and a plane, and keeps a megapixel's fit to a few milliseconds.
    /// </summary>
    private static int Step(int ring) => Math.Max(1, ring / 16);

    /// <summary>The next sampled column of a row's ring after <paramref name="x"/>: the middle of a row that is not an edge row is skipped.</summary>
    private static int Next(int x, bool edgeRow, int width, int ring, int step)
    {
        var next = x + step;
        return !edgeRow && next >= ring && next < width - ring ? width - ring : next;
    }

    /// <summary>
    /// The plane through three of the ring's cell medians that most other cells agree with: a frame's line, the table
    /// beyond the page or a stroke can spoil a few cells, and then that plane ignores them. Its spread is the median
    /// deviation of the ring's pixels from it.
    /// </summary>
    private static Ground Robust(ReadOnlySpan<RingSample> ring)
    {
        const int cells = 4 * CellsPerSide;
        Span<int> levels = stackalloc int[cells * 256];
        Span<long> counts = stackalloc long[cells];
        Span<double> sumX = stackalloc double[cells];
        Span<double> sumY = stackalloc double[cells];
        levels.Clear();
        counts.Clear();
        sumX.Clear();
        sumY.Clear();
        foreach (var sample in ring)
        {
            var c = sample.Cell;
            levels[c * 256 + Math.Clamp((int)sample.Value, 0, 255)]++;
            counts[c]++;
            sumX[c] += sample.Dx;
            sumY[c] += sample.Dy;
        }

        Span<double> cx = stackalloc double[cells];
        Span<double> cy = stackalloc double[cells];
        Span<double> cv = stackalloc double[cells];
        var used = 0;
        for (var c = 0; c < cells; c++)
        {
            if (counts[c] > 0)
            {
                (cx[used], cy[used], cv[used]) = (sumX[c] / counts[c], sumY[c] / counts[c], LevelHistogram.Median(levels.Slice(c * 256, 256), counts[c]) + 0.5);
                used++;
            }
        }

        var best = new Ground((float)Middle(cv[..used]), 0, 0, 0);
        var (bestAgree, bestMiss) = Agreement(best, cx[..used], cy[..used], cv[..used]);
        for (var i = 0; i < used; i++)
        {
            for (var j = i + 1; j < used; j++)
            {
                for (var k = j + 1; k < used; k++)
                {
                    if (Through(cx, cy, cv, i, j, k) is not { } candidate)
                    {
                        continue;
                    }

                    var (agree, miss) = Agreement(candidate, cx[..used], cy[..used], cv[..used]);
                    if (agree > bestAgree || (agree == bestAgree && miss < bestMiss))
                    {
                        (best, bestAgree, bestMiss) = (candidate, agree, miss);
                    }
                }
            }
        }

        return best with { Spread = Deviation(ring, best) };
    }

    /// <summary>The cell of a ring pixel: along the top band, the bottom band, then the left and right ones.</summary>
    private static int Cell(int x, int y, int width, int height, int ring)
    {
        if (EdgeRow(y, height, ring))
        {
            return (y < ring ? 0 : CellsPerSide) + Math.Min(CellsPerSide - 1, x * CellsPerSide / width);
        }

        var along = Math.Min(CellsPerSide - 1, (y - ring) * CellsPerSide / Math.Max(1, height - 2 * ring));
        return (x < ring ? 2 : 3) * CellsPerSide + along;
    }

    /// <summary>The middle value of a few numbers (the upper one of an even count).</summary>
    private static double Middle(ReadOnlySpan<double> values)
    {
        Span<double> sorted = stackalloc double[values.Length];
        values.CopyTo(sorted);
        sorted.Sort();
        return sorted.Length == 0 ? 0 : sorted[sorted.Length / 2];
    }

    /// <summary>The plane through three cell medians, or null when the cells' centres lie on a line.</summary>
    private static Ground? Through(ReadOnlySpan<double> x, ReadOnlySpan<double> y, ReadOnlySpan<double> v, int i, int j, int k)
    {
        var (x1, y1, v1) = (x[j] - x[i], y[j] - y[i], v[j] - v[i]);
        var (x2, y2, v2) = (x[k] - x[i], y[k] - y[i], v[k] - v[i]);
        var det = x1 * y2 - x2 * y1;
        if (Math.Abs(det) < 1e-6)
        {
            return null;
        }

        var b = (v1 * y2 - v2 * y1) / det;
        var c = (x1 * v2 - x2 * v1) / det;
        return new((float)(v[i] - b * x[i] - c * y[i]), (float)b, (float)c, 0);
    }

    /// <summary>
    /// How many cells lie within <see cref="CellAgreement"/> of the plane, and, to break ties, how far off all cells are
    /// in all (each counted at most <see cref="CellAgreement"/>).
    /// </summary>
    private static (int Agree, double Miss) Agreement(Ground plane, ReadOnlySpan<double> x, ReadOnlySpan<double> y, ReadOnlySpan<double> v)
    {
        var (agree, miss) = (0, 0.0);
        for (var c = 0; c < v.Length; c++)
        {
            var off = Math.Abs(v[c] - (plane.Level + plane.SlopeX * x[c] + plane.SlopeY * y[c]));
            agree += off <= CellAgreement ? 1 : 0;
            miss += Math.Min(off, CellAgreement);
        }

        return (agree, miss);
    }

    /// <summary>The least-squares plane through the ring pixels near <paramref name="previous"/>, and their spread around it.</summary>
    private static Ground Refine(ReadOnlySpan<RingSample> ring, Ground previous)
    {
        var tolerance = Math.Max(MinTolerance, Tolerance * previous.Spread);
        // Normal equations of v = a + b*dx + c*dy.
        double n = 0, sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0, sv = 0, sxv = 0, syv = 0;
        foreach (var sample in ring)
        {
            var v = sample.Value;
            if (Math.Abs(v - previous.At(sample.Dx, sample.Dy)) > tolerance)
            {
                continue;
            }

            double dx = sample.Dx, dy = sample.Dy;
            n++;
            sx += dx;
            sy += dy;
            sxx += dx * dx;
            syy += dy * dy;
            sxy += dx * dy;
            sv += v;
            sxv += dx * v;
            syv += dy * v;
        }

        if (n == 0)
        {
            return previous;
        }

        var det = n * (sxx * syy - sxy * sxy) - sx * (sx * syy - sxy * sy) + sy * (sx * sxy - sxx * sy);
        double a, b, c;
        if (Math.Abs(det) < 1e-9 * Math.Max(1, n * sxx * syy))
        {
            (a, b, c) = (sv / n, 0, 0);
        }
        else
        {
            a = (sv * (sxx * syy - sxy * sxy) - sx * (sxv * syy - sxy * syv) + sy * (sxv * sxy - sxx * syv)) / det;
            b = (n * (sxv * syy - sxy * syv) - sv * (sx * syy - sxy * sy) + sy * (sx * syv - sxv * sy)) / det;
            c = (n * (sxx * syv - sxv * sxy) - sx * (sx * syv - sxv * sy) + sv * (sx * sxy - sxx * sy)) / det;
        }

        // The spread is measured over the whole ring, robustly: what does not lie on the plane is a minority of the
        // ring, and must not widen the tolerance of the next pass.
        var plane = new Ground((float)a, (float)b, (float)c, 0);
        return plane with { Spread = Deviation(ring, plane) };
    }

    /// <summary>The median deviation of the ring's pixels from a plane (in half-level steps), as a standard deviation.</summary>
    private static float Deviation(ReadOnlySpan<RingSample> ring, Ground plane)
    {
        Span<int> deviations = stackalloc int[512];
        deviations.Clear();
        foreach (var sample in ring)
        {
            deviations[(int)Math.Min(511, 2 * Math.Abs(sample.Value - plane.At(sample.Dx, sample.Dy)))]++;
        }

        // 1.4826 turns a median absolute deviation into a normal distribution's standard deviation.
        return 1.4826f * (LevelHistogram.Median(deviations, ring.Length) + 0.5f) / 2;
    }
}
