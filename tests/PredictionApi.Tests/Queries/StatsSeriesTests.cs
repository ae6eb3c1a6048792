using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Npgsql;

namespace PredictionApi.Tests.Queries;

/// <summary>
/// GET /predictions/stats/series reads the maintained counts (prediction_counts); per bucket and class it must
/// answer what a count of the predictions themselves answers, whatever was inserted and deleted.
/// </summary>
public sealed class StatsSeriesTests(ServiceFixture service) : IClassFixture<ServiceFixture>
{
    private readonly HttpClient _client = service.Factory.CreateClient();

    // Every prediction whose hour or day overlaps [from, to), counted row by row.
    private const string DirectCountSql = """
        SELECT date_trunc(@Span, created_at, 'UTC') AS Start, likely_class AS LikelyClass, count(*) AS Count
        FROM predictions
        WHERE model_name = @Model
          AND date_trunc(@Span, created_at, 'UTC') >= date_trunc(@Span, @From, 'UTC') AND date_trunc(@Span, created_at, 'UTC') < @To
        GROUP BY 1, 2
        """;

    [Fact]
    public async Task EveryBucketOfARandomRangeHoldsWhatADirectCountOfThePredictionsSays()
    {
        var seed = Environment.TickCount;
        var random = new Random(seed);
        var model = Seed.UniqueModel();
        var start = Seed.UniqueWindow();
        // Five days, to the microsecond, some rows exactly on an hour; seven classes.
        var rows = Enumerable.Range(0, 500).Select(_ =>
        {
            var created = start.AddTicks(random.NextInt64(5 * TimeSpan.TicksPerDay) / 10 * 10);
            created = random.Next(15) == 0 ? new DateTime(created.Ticks / TimeSpan.TicksPerHour * TimeSpan.TicksPerHour, DateTimeKind.Utc) : created;
            return new SeedRow(model, random.Next(7), random.Next(1, 100) / 100f, created);
        }).ToList();
        await Seed.InsertAsync(service.ConnectionString, rows);
        await using (var connection = new NpgsqlConnection(service.ConnectionString))
        {
            // Deletes subtract from the counts; a bucket may fall back to zero.
            var gone = rows.Where(_ => random.Next(6) == 0).Select(r => r.Id).ToArray();
            await connection.ExecuteAsync("DELETE FROM predictions WHERE id = ANY(@gone)", new { gone });
        }

        for (var round = 0; round < 30; round++)
        {
            var span = round % 3 == 0 ? "day" : "hour";
            var from = start.AddTicks(random.NextInt64(-TimeSpan.TicksPerDay, 5 * TimeSpan.TicksPerDay));
            var to = from.AddTicks(random.NextInt64(1, (span == "day" ? 6 : 3) * TimeSpan.TicksPerDay));
            var context = $"seed {seed}, {span}, from {from:O}, to {to:O}";

            var series = await SeriesAsync($"model={model}&bucket={span}&from={Seed.IsoPrecise(from)}&to={Seed.IsoPrecise(to)}");

            var step = span == "day" ? TimeSpan.TicksPerDay : TimeSpan.TicksPerHour;
            var first = new DateTime(from.Ticks / step * step, DateTimeKind.Utc);
            var end = new DateTime((to.Ticks + step - 1) / step * step, DateTimeKind.Utc);
            var buckets = series.GetProperty("buckets").EnumerateArray().ToList();
            Assert.True((int)((end - first).Ticks / step) == buckets.Count, context);
            Assert.Equal(first, series.GetProperty("from").GetDateTime().ToUniversalTime());
            Assert.Equal(end, series.GetProperty("to").GetDateTime().ToUniversalTime());

            var expected = await DirectCountAsync(model, span, from, to);
            var classes = series.GetProperty("labels").GetArrayLength();
            Assert.True(expected.Count == 0 || classes > expected.Keys.Max(k => k.Class), context);
            for (var i = 0; i < buckets.Count; i++)
            {
                var bucketStart = buckets[i].GetProperty("start").GetDateTime().ToUniversalTime();
                Assert.Equal(first.AddTicks(step * i), bucketStart);
                var counts = buckets[i].GetProperty("counts").EnumerateArray().Select(c => c.GetInt64()).ToArray();
                Assert.Equal(classes, counts.Length);
                for (var c = 0; c < classes; c++)
                {
                    Assert.True(expected.GetValueOrDefault((bucketStart, c)) == counts[c], $"{context}: bucket {bucketStart:O}, class {c}");
                }

                Assert.Equal(counts.Sum(), buckets[i].GetProperty("total").GetInt64());
            }

            Assert.Equal(expected.Values.Sum(), series.GetProperty("total").GetInt64());
        }
    }

    [Fact]
    public async Task TheDefaultModelsClassesAreNamedByItsLabelsAndEmptyBucketsAreListed()
    {
        var start = Seed.UniqueWindow();
        var hour = new DateTime(start.Ticks / TimeSpan.TicksPerHour * TimeSpan.TicksPerHour, DateTimeKind.Utc);
        var series = await SeriesAsync($"from={Seed.Iso(hour)}&to={Seed.Iso(hour.AddHours(5))}");
        Assert.Equal("mnist", series.GetProperty("model").GetString());
        Assert.Equal("hour", series.GetProperty("bucket").GetString());
        Assert.Equal(Enumerable.Range(0, 10).Select(i => i.ToString()), series.GetProperty("labels").EnumerateArray().Select(l => l.GetString()));
        var buckets = series.GetProperty("buckets").EnumerateArray().ToList();
        Assert.Equal(5, buckets.Count);
        Assert.All(buckets, b => Assert.Equal(10, b.GetProperty("counts").GetArrayLength()));
    }

    [Theory]
    [InlineData("bucket=week", "bucket must be hour or day")]
    [InlineData("bucket=hour&from=2020-01-01&to=2021-01-01", "at most 2000 buckets")]
    [InlineData("from=2021-01-02&to=2021-01-01", "must be earlier than to")]
    // to left out is now: a from in the future has no range.
    [InlineData("from=2999-01-01", "is not before to, which is now when left out")]
    [InlineData("bucket=day&from=2999-01-01", "is not before to")]
    // The calendar's ends: a bucket past the last day, a default start before the first.
    [InlineData("from=9999-12-31&to=9999-12-31T23:59:59", "reach past the first or last day")]
    [InlineData("to=9999-12-31T23:30:00&from=9999-12-31T20:00:00", "reach past the first or last day")]
    [InlineData("to=0001-01-02T00:00:00", "reach past the first or last day")]
    public async Task ABadRangeOrBucketIsAProblemSayingWhatToSend(string query, string detail)
    {
        using var response = await _client.GetAsync("/predictions/stats/series?" + query);
        await ProblemAssert.AssertProblemAsync(response, HttpStatusCode.BadRequest, detail);
    }

    private async Task<JsonElement> SeriesAsync(string query)
    {
        using var response = await _client.GetAsync("/predictions/stats/series?" + query);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return JsonSerializer.Deserialize<JsonElement>(text);
    }

    private async Task<Dictionary<(DateTime Start, int Class), long>> DirectCountAsync(string model, string span, DateTime from, DateTime to)
    {
        await using var connection = new NpgsqlConnection(service.ConnectionString);
        var rows = await connection.QueryAsync<(DateTime Start, int LikelyClass, long Count)>(DirectCountSql, new { Model = model, Span = span, From = from, To = to });
        return rows.ToDictionary(r => (r.Start.ToUniversalTime(), r.LikelyClass), r => r.Count);
    }
}
