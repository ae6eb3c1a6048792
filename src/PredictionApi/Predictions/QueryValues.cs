using System.Globalization;
using System.Text.RegularExpressions;

namespace PredictionApi.Predictions;

/// <summary>Parsing of query-string values shared by the query endpoints.</summary>
internal static partial class QueryValues
{
    public const int MaxNameLength = 200;

    /// <summary>A finite number from 0 to 1, or null.</summary>
    public static float? Probability(string text) =>
        float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && float.IsFinite(value) && value is >= 0 and <= 1
            ? value
            : null;

    /// <summary>
    /// An ISO 8601 date (midnight UTC) or date and time, as UTC, or null. Without an offset the time is
    /// UTC. A space where the offset sign belongs is read as '+', which an unescaped URL turns into a space.
    /// A seventh fractional digit rounds up to the next microsecond, PostgreSQL's resolution: every bound
    /// (from, to, before) compares as "at or after" or "before", and rounding up keeps both exact, where the
    /// driver's truncation moved a row stored at the same microsecond to the wrong side.
    /// </summary>
    public static DateTime? Timestamp(string text)
    {
        var match = Iso8601().Match(text);
        if (!match.Success)
        {
            return null;
        }

        var normalized = match.Groups["offset"].Value.StartsWith(' ') ? text.Replace(' ', '+') : text;
        if (!DateTimeOffset.TryParse(normalized, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var value))
        {
            return null;
        }

        var time = value.UtcDateTime;
        var partial = time.Ticks % TimeSpan.TicksPerMicrosecond;
        // The calendar's last instant cannot round up; nothing is stored that late either way.
        return partial == 0 || time.Ticks > DateTime.MaxValue.Ticks - TimeSpan.TicksPerMicrosecond ? time : time.AddTicks(TimeSpan.TicksPerMicrosecond - partial);
    }

    public static bool IsModelName(string text) => text.Length <= MaxNameLength && ModelName().IsMatch(text);

    /// <summary>Non-empty, bounded text without control characters (PostgreSQL text cannot hold NUL).</summary>
    public static bool IsText(string text) => text.Length is > 0 and <= MaxNameLength && !text.Any(char.IsControl);

    [GeneratedRegex(@"^[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[Tt][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,7})?)?(?<offset>[Zz]|[+\- ][0-9]{2}:?[0-9]{2})?)?\z")]
    private static partial Regex Iso8601();

    [GeneratedRegex(@"^[\p{L}\p{N}][\p{L}\p{N}._:@/-]*\z")]
    private static partial Regex ModelName();
}
