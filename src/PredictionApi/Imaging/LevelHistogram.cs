namespace PredictionApi.Imaging;

/// <summary>Counts of values per level (0..255 gray levels, or any binning), read as a median.</summary>
internal static class LevelHistogram
{
    /// <summary>The lowest level at which the running count reaches half of <paramref name="n"/>.</summary>
    public static int Median(ReadOnlySpan<int> counts, long n)
    {
        long seen = 0;
        for (var v = 0; v < counts.Length; v++)
        {
            seen += counts[v];
            if (2 * seen >= n)
            {
                return v;
            }
        }

        return counts.Length - 1;
    }
}
