using System.Globalization;

namespace PredictionApi.Inference;

/// <summary>
/// Orders version names as people read them: dot- or dash-separated numbers compare as numbers (2 &lt; 10,
/// 1.9.0 &lt; 1.10.0), other parts as text, so the "highest version" is the newest one.
/// </summary>
public sealed class VersionOrder : IComparer<string>
{
    public static readonly VersionOrder Instance = new();

    public int Compare(string? x, string? y)
    {
        if (x is null || y is null)
        {
            return x is null ? (y is null ? 0 : -1) : 1;
        }

        var a = x.Split('.', '-', '_');
        var b = y.Split('.', '-', '_');
        for (var i = 0; i < Math.Min(a.Length, b.Length); i++)
        {
            var bothNumbers = long.TryParse(a[i], NumberStyles.None, CultureInfo.InvariantCulture, out var m)
                & long.TryParse(b[i], NumberStyles.None, CultureInfo.InvariantCulture, out var n);
            var order = bothNumbers ? m.CompareTo(n) : string.CompareOrdinal(a[i], b[i]);
            if (order != 0)
            {
                return order;
            }
        }

        return a.Length != b.Length ? a.Length.CompareTo(b.Length) : string.CompareOrdinal(x, y);
    }
}
