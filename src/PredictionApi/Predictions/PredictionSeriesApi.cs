using System.Data;
using System.Globalization;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using PredictionApi.Inference;
using PredictionApi.Problems;

namespace PredictionApi.Predictions;

/// <summary>
/// GET /predictions/stats/series: how many predictions of each class a model made per hour or day, for charts over
/// time. Read from prediction_counts (db/schema.sql) alone, so the cost follows the number of buckets, not of predictions.
/// </summary>
public static class PredictionSeriesApi
{
    /// <summary>The most buckets one answer holds: a year of days, or about twelve weeks of hours.</summary>
    public const int MaxBuckets = 2000;

    // Without from: the last two days of hours, or the last thirty days.
    private static readonly Dictionary<string, (TimeSpan Step, int DefaultBuckets)> Spans = new()
    {
        ["hour"] = (TimeSpan.FromHours(1), 48),
        ["day"] = (TimeSpan.FromDays(1), 30),
    };

    public static async Task<Results<Ok<PredictionSeries>, ProblemHttpResult>> GetSeries(
        string? model, string? from, string? to, string? bucket, ModelRegistry models, NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        var span = bucket ?? "hour";
        if (!Spans.TryGetValue(span, out var unit))
        {
            return ApiProblems.BadRequest($"bucket must be hour or day, not '{bucket}'.");
        }

        if (PredictionFilter.TryParse(model ?? models.DefaultName, null, null, null, null, from, to, out var filter) is { } problem)
        {
            return problem;
        }

        // Every bucket that overlaps [from, to): from rounds down to its bucket's start, to up to its bucket's end.
        var step = unit.Step.Ticks;
        var until = filter.To ?? DateTime.UtcNow;
        if (filter.From >= until)
        {
            // Only reachable with to left out (the filter refuses from >= to when both are given): to is now.
            return ApiProblems.BadRequest($"from ({filter.From:O}) is not before to, which is now when left out; give a from in the past, or a later to.");
        }

        // A bucket's end past the calendar's last day, or a default start before its first, cannot be written as a time.
        if (until.Ticks > DateTime.MaxValue.Ticks - step || filter.From is null && until.Ticks < step * (unit.DefaultBuckets + 1))
        {
            return ApiProblems.BadRequest($"The {span}s around {until:O} reach past the first or last day a time can have; give a narrower from and to.");
        }

        var end = Ceiling(until, step);
        var start = filter.From is { } f ? Floor(f, step) : end.AddTicks(-step * unit.DefaultBuckets);
        var buckets = (end - start).Ticks / step;
        if (buckets > MaxBuckets)
        {
            return ApiProblems.BadRequest(
                $"from and to cover {buckets} {span}s; one answer holds at most {MaxBuckets} buckets: narrow the range{(span == "hour" ? " or ask for bucket=day" : "")}.");
        }

        const string sql = """
            SELECT bucket_start AS Start, likely_class AS LikelyClass, sum(count)::bigint AS Count
            FROM prediction_counts
            WHERE model_name = @Model AND span = @Span AND bucket_start >= @Start AND bucket_start < @End
            GROUP BY 1, 2
            HAVING sum(count) > 0
            """;
        var parameters = new DynamicParameters();
        parameters.Add("Model", filter.Model, DbType.String);
        parameters.Add("Span", span, DbType.String);
        parameters.Add("Start", start, DbType.DateTimeOffset);
        parameters.Add("End", end, DbType.DateTimeOffset);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var counts = (await connection.QueryAsync<SeriesCount>(
            new CommandDefinition(sql, parameters, cancellationToken: cancellationToken))).AsList();

        // Classes beyond the serving version's labels (an older version's) are named by index, as the statistics name them.
        var known = models.SpecOf(filter.Model)?.Labels ?? [];
        var classCount = Math.Max(known.Length, counts.Count == 0 ? 0 : counts.Max(c => c.LikelyClass) + 1);
        var labels = Enumerable.Range(0, classCount).Select(c => c < known.Length ? known[c] : c.ToString(CultureInfo.InvariantCulture)).ToList();
        // Every bucket of the range, empty ones included, so a chart's time axis has no gaps.
        var series = Enumerable.Range(0, (int)buckets).Select(i => new long[classCount]).ToArray();
        foreach (var (bucketStart, likelyClass, count) in counts)
        {
            series[(int)((bucketStart.ToUniversalTime() - start).Ticks / step)][likelyClass] += count;
        }

        var list = series.Select((classes, i) => new SeriesBucket(start.AddTicks(step * i), classes.Sum(), classes)).ToList();
        return TypedResults.Ok(new PredictionSeries(filter.Model!, span, start, end, labels, list.Sum(b => b.Total), list));
    }

    private sealed record SeriesCount(DateTime Start, int LikelyClass, long Count);

    private static DateTime Floor(DateTime time, long unit) => new(time.Ticks / unit * unit, DateTimeKind.Utc);

    private static DateTime Ceiling(DateTime time, long unit) => new((time.Ticks + unit - 1) / unit * unit, DateTimeKind.Utc);
}
