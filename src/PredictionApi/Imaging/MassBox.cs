namespace PredictionApi.Imaging;

/// <summary>
/// The box around what a preprocessing profile keeps of a picture (a digit's ink, a product): every pixel above a
/// threshold, with the sparse specks along its edges (at most a share of the total mass on each side) trimmed away.
/// </summary>
public static class MassBox
{
    /// <summary>The box around everything brighter than <paramref name="threshold"/>; null when there is nothing.</summary>
    public static (int X, int Y, int W, int H)? Find(ReadOnlySpan<float> plane, int width, int height, float threshold, float trimShare)
    {
        var columns = Scratch<double>.Rent(width);
        var rows = Scratch<double>.Rent(height);
        try
        {
            var colMass = columns.AsSpan(0, width);
            var rowMass = rows.AsSpan(0, height);
            colMass.Clear();
            rowMass.Clear();
            double total = 0;
            for (var y = 0; y < height; y++)
            {
                var row = plane.Slice(y * width, width);
                for (var x = 0; x < width; x++)
                {
                    if (row[x] > threshold)
                    {
                        colMass[x] += row[x];
                        rowMass[y] += row[x];
                        total += row[x];
                    }
                }
            }

            if (total <= 0)
            {
                return null;
            }

            var (x0, x1) = Trim(colMass, total * trimShare);
            var (y0, y1) = Trim(rowMass, total * trimShare);
            return (x0, y0, x1 - x0 + 1, y1 - y0 + 1);
        }
        finally
        {
            Scratch<double>.Return(columns);
            Scratch<double>.Return(rows);
        }
    }

    /// <summary>First and last index once leading and trailing entries summing to at most <paramref name="budget"/> are dropped.</summary>
    private static (int First, int Last) Trim(ReadOnlySpan<double> mass, double budget)
    {
        int first = 0, last = mass.Length - 1;
        double dropped = 0;
        while (first < last && (mass[first] == 0 || dropped + mass[first] <= budget))
        {
            dropped += mass[first++];
        }

        dropped = 0;
        while (last > first && (mass[last] == 0 || dropped + mass[last] <= budget))
        {
            dropped += mass[last--];
        }

        return (first, last);
    }
}
