using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using PredictionApi.Predictions;
using PredictionApi.Storage;

namespace PredictionApi.Tests.Queries;

/// <summary>
/// GET /predictions/stats reads the counts that triggers maintain (prediction_counts); whatever wrote,
/// relabelled or deleted the predictions, its answers must equal a scan of the predictions themselves.
/// Each test has its own database.
/// </summary>
public sealed class StatsCountsTests : IAsyncLifetime
{
    private static readonly DateTime Start = new(2024, 3, 10, 0, 0, 0, DateTimeKind.Utc);
    private static readonly string[] Labels = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

    // The statistics as they were computed before the counts existed: every prediction of the range, grouped, with the
    // true label of its input (ground truth belongs to the input; the counts read the copy each prediction keeps).
    private const string FullScanSql = """
        SELECT p.likely_class AS LikelyClass, least(floor(p.confidence * 10::real), 9)::int AS Bin, i.true_label AS TrueLabel,
               count(*) AS Count, sum(p.confidence::float8) AS ConfidenceSum
        FROM predictions p JOIN inputs i ON i.id = p.input_id
        WHERE p.model_name = @Model AND (@From::timestamptz IS NULL OR p.created_at >= @From) AND (@To::timestamptz IS NULL OR p.created_at < @To)
        GROUP BY 1, 2, 3
        """;

    private const string LockInIdOrder = "SELECT id FROM predictions WHERE id = ANY(@some) ORDER BY id FOR UPDATE";

    private string _database = null!;
    private PredictionApiFactory _factory = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _database = await TestPostgres.CreateDatabaseAsync("counts");
        // Small retention chunks: a retention delete takes many statements.
        _factory = new PredictionApiFactory(_database, new Dictionary<string, string?> { ["Retention:ChunkSize"] = "97" });
        _client = _factory.CreateClient();
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _factory.DisposeAsync();
        await TestPostgres.DropDatabaseAsync(_database);
    }

    [Fact]
    public async Task RandomRangesAnswerExactlyAsAFullScanAfterInsertsFeedbackAndDeletes()
    {
        var seed = Environment.TickCount;
        var random = new Random(seed);
        var rows = Enumerable.Range(0, 3000).Select(_ => RandomRow(random)).ToList();
        // Most in multi-row statements (as a batch or group commit writes), some one by one.
        await InsertManyAsync(rows.Skip(40));
        await Seed.InsertAsync(_database, rows.Take(40));
        var ids = rows.Where(r => r.Model == "mnist").Select(r => r.Id).ToList();
        // Other models' predictions of some of the same inputs (stored later, as a shadow model's are): a label recorded
        // through either prediction is the input's, so it changes the other's counts too.
        await using (var connection = new NpgsqlConnection(_database))
        {
            ids.AddRange(await connection.QueryAsync<long>("""
                INSERT INTO predictions (input_id, model_name, model_version, probabilities, likely_class, confidence, created_at)
                SELECT input_id, CASE WHEN id % 3 = 0 THEN 'other' ELSE 'mnist' END, '2', probabilities, (likely_class + 1) % 10, confidence,
                       created_at + interval '90 minutes'
                FROM predictions WHERE id = ANY(@some)
                RETURNING id
                """, new { some = ids.OrderBy(_ => random.Next()).Take(400).ToArray() }));
        }

        // Feedback through the API: new labels, changed labels, cleared labels, and notes that change no count.
        foreach (var id in ids.OrderBy(_ => random.Next()).Take(250))
        {
            var json = random.Next(4) switch
            {
                0 => """{"true_label": null}""",
                1 => """{"note": "checked"}""",
                _ => $$"""{"true_label": "{{Labels[random.Next(10)]}}"}""",
            };
            using var response = await _client.PatchAsync($"/prediction/{id}", new StringContent(json, Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        await using (var connection = new NpgsqlConnection(_database))
        {
            // One statement relabelling many rows across hours, days and models.
            await connection.ExecuteAsync("UPDATE predictions SET true_label = '3', labeled_at = now() WHERE id % 23 = 0");
        }

        foreach (var id in ids.OrderBy(_ => random.Next()).Take(60))
        {
            using var response = await _client.DeleteAsync($"/prediction/{id}");
            Assert.True(response.StatusCode is HttpStatusCode.NoContent or HttpStatusCode.OK or HttpStatusCode.NotFound, response.StatusCode.ToString());
        }

        var cutoff = Start.AddHours(20).AddMinutes(random.Next(60));
        await RetainAsync($"before={Iso(cutoff)}");
        await RetainAsync($"before={Iso(Start.AddDays(2).AddMinutes(random.Next(600)))}&max_confidence=0.7");
        await using (var connection = new NpgsqlConnection(_database))
        {
            // Retention drops the groups it emptied (single deletes emptied some too), and only those.
            Assert.Equal(0, await connection.ExecuteScalarAsync<long>(
                "SELECT count(*) FROM prediction_counts WHERE count = 0 AND bucket_start < @cutoff", new { cutoff }));
            Assert.True(await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM prediction_counts WHERE count > 0") > 0);
        }

        var reader = _factory.Services.GetRequiredService<PredictionReader>();
        var ranges = new List<(DateTime? From, DateTime? To)> { (null, null) };
        while (ranges.Count < 80)
        {
            var from = RandomTime(random);
            var to = RandomTime(random);
            (from, to) = from < to ? (from, to) : (to, from);
            ranges.Add(random.Next(6) switch
            {
                0 => (from, null),
                1 => (null, to),
                2 => (Hour(from), Hour(to)),
                3 => (Hour(from).Date, to.Date.AddDays(1)),
                4 => (from, from.AddMinutes(random.Next(1, 90))),
                _ => (from, to),
            });
        }

        foreach (var model in new[] { "mnist", "other" })
        {
            foreach (var (from, to) in ranges.Where(r => !(r.From >= r.To)))
            {
                var context = $"seed {seed}, model {model}, from {from:O}, to {to:O}";
                var filter = new PredictionFilter { Model = model, From = from, To = to };
                var expected = await FullScanAsync(model, from, to);
                var actual = await reader.StatsGroupsAsync(filter, CancellationToken.None);
                Assert.True(Sorted(expected).SequenceEqual(Sorted(actual)), context);
                await AssertAnswerAsync(model, from, to, expected, context);
            }
        }
    }

    [Fact]
    public async Task ConcurrentMultiRowInsertsRelabelsAndDeletesNeitherDeadlockNorMiscount()
    {
        var random = new Random(11);
        var rows = Enumerable.Range(0, 400).Select(_ => RandomRow(random)).ToList();
        await InsertManyAsync(rows);
        var ids = rows.Select(r => r.Id).ToArray();

        // Every statement touches many groups of the same few days, so concurrent ones wait for each other's
        // groups; each must still finish (no deadlock error) and the counts must come out exact.
        // The updates and deletes lock their rows in id order first, as the service's retention does: a plain
        // "WHERE id = ANY" on this small table is a sequential scan, which meets a row at the place of the version its
        // snapshot sees, so two statements can lock the same two rows in opposite orders (a deadlock of the rows
        // themselves, seen in PostgreSQL's log, before any trigger runs).
        var workers = Enumerable.Range(0, 4).Select(worker => Task.Run(async () =>
        {
            var mine = new Random(worker);
            for (var round = 0; round < 25; round++)
            {
                var some = ids.OrderBy(_ => mine.Next()).Take(30).ToArray();
                await using var connection = new NpgsqlConnection(_database);
                switch (round % 3)
                {
                    case 0:
                        await InsertManyAsync(Enumerable.Range(0, 30).Select(_ => RandomRow(mine)));
                        break;
                    case 1:
                        await connection.ExecuteAsync($"WITH l AS ({LockInIdOrder}) UPDATE predictions p SET true_label = @label FROM l WHERE p.id = l.id",
                            new { label = Labels[mine.Next(10)], some });
                        break;
                    default:
                        await connection.ExecuteAsync($"WITH l AS ({LockInIdOrder}) DELETE FROM predictions p USING l WHERE p.id = l.id", new { some });
                        break;
                }
            }
        })).ToList();
        await Task.WhenAll(workers);

        var reader = _factory.Services.GetRequiredService<PredictionReader>();
        foreach (var model in new[] { "mnist", "other" })
        {
            var actual = await reader.StatsGroupsAsync(new PredictionFilter { Model = model }, CancellationToken.None);
            Assert.Equal(Sorted(await FullScanAsync(model, null, null)), Sorted(actual));
        }
    }

    [Fact]
    public async Task ApplyingTheSchemaToPredictionsStoredBeforeTheCountsCountsThemOnce()
    {
        var random = new Random(7);
        var rows = Enumerable.Range(0, 500).Select(_ => RandomRow(random)).ToList();
        await InsertManyAsync(rows);
        await using var dataSource = NpgsqlDataSource.Create(_database);
        await using (var connection = await dataSource.OpenConnectionAsync())
        {
            // A database from before the counts: no table, no triggers, and not this schema's hash.
            await connection.ExecuteAsync("""
                DELETE FROM schema_applied;
                DROP TABLE prediction_counts;
                DROP TRIGGER prediction_counts_insert ON predictions;
                DROP TRIGGER prediction_counts_update ON predictions;
                DROP TRIGGER prediction_counts_delete ON predictions;
                """);
        }

        await SchemaMigrator.ApplyAsync(dataSource, CancellationToken.None);
        // A later schema version runs the file again: it finds the table and leaves its counts alone.
        await using (var connection = await dataSource.OpenConnectionAsync())
        {
            await connection.ExecuteAsync("DELETE FROM schema_applied");
        }

        await SchemaMigrator.ApplyAsync(dataSource, CancellationToken.None);
        await InsertManyAsync(Enumerable.Range(0, 50).Select(_ => RandomRow(random)));

        var reader = _factory.Services.GetRequiredService<PredictionReader>();
        foreach (var (from, to) in new (DateTime?, DateTime?)[] { (null, null), (Start.AddHours(5), Start.AddDays(3).AddMinutes(17)) })
        {
            var expected = await FullScanAsync("mnist", from, to);
            Assert.NotEmpty(expected);
            var actual = await reader.StatsGroupsAsync(new PredictionFilter { Model = "mnist", From = from, To = to }, CancellationToken.None);
            Assert.Equal(Sorted(expected), Sorted(actual));
        }
    }

    [Fact]
    public void RangesSplitIntoWholeDaysWholeHoursAndPartialHoursThatCoverThemExactly()
    {
        var from = new DateTime(2024, 3, 10, 22, 15, 0, DateTimeKind.Utc);
        var to = new DateTime(2024, 3, 13, 1, 30, 0, DateTimeKind.Utc);

        var pieces = PredictionReader.StatsPieces(from, to);

        Assert.Equal(
            [
                (StatsSource.Rows, from, from.AddMinutes(45)),
                (StatsSource.Rows, to.AddMinutes(-30), to),
                (StatsSource.Days, new DateTime(2024, 3, 11, 0, 0, 0, DateTimeKind.Utc), new DateTime(2024, 3, 13, 0, 0, 0, DateTimeKind.Utc)),
                (StatsSource.Hours, from.AddMinutes(45), new DateTime(2024, 3, 11, 0, 0, 0, DateTimeKind.Utc)),
                (StatsSource.Hours, new DateTime(2024, 3, 13, 0, 0, 0, DateTimeKind.Utc), to.AddMinutes(-30)),
            ],
            pieces.Select(p => (p.Source, (DateTime)p.From!, (DateTime)p.To!)));
        // Inside one hour only the rows can answer; without bounds only the days are needed.
        Assert.Equal([(StatsSource.Rows, (DateTime?)from, (DateTime?)from.AddMinutes(30))], PredictionReader.StatsPieces(from, from.AddMinutes(30)));
        Assert.Equal([(StatsSource.Days, (DateTime?)null, (DateTime?)null)], PredictionReader.StatsPieces(null, null));
        var late = new DateTime(9999, 12, 31, 23, 30, 0, DateTimeKind.Utc);
        Assert.Equal([(StatsSource.Rows, (DateTime?)late, (DateTime?)null)], PredictionReader.StatsPieces(late, null));
    }

    private static SeedRow RandomRow(Random random)
    {
        // Confidences on bin edges (0, 0.1, 0.7, 1) and in between, on a 2^-20 grid so float8 sums are exact in any order.
        float[] edges = [0f, 0.1f, 0.7f, 0.9f, 1f];
        var confidence = random.Next(5) == 0 ? edges[random.Next(edges.Length)] : random.Next(1 << 20) / (float)(1 << 20);
        // Four days, to the microsecond; some rows exactly on an hour.
        var created = Start.AddTicks(random.NextInt64(4 * TimeSpan.TicksPerDay) / 10 * 10);
        created = random.Next(20) == 0 ? Hour(created) : created;
        var label = random.Next(5) switch
        {
            < 2 => null,
            2 => "tulip",
            _ => Labels[random.Next(10)],
        };
        return new SeedRow(random.Next(10) == 0 ? "other" : "mnist", random.Next(10), confidence, created, label);
    }

    private static DateTime RandomTime(Random random) =>
        Start.AddHours(-6).AddTicks(random.NextInt64(5 * TimeSpan.TicksPerDay) / 10 * 10);

    private static DateTime Hour(DateTime time) => new(time.Year, time.Month, time.Day, time.Hour, 0, 0, DateTimeKind.Utc);

    private static string Iso(DateTime time) => time.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);

    private static List<StatsGroup> Sorted(IEnumerable<StatsGroup> groups) =>
        groups.OrderBy(g => g.LikelyClass).ThenBy(g => g.Bin).ThenBy(g => g.TrueLabel, StringComparer.Ordinal).ToList();

    /// <summary>Inserts the rows, inputs and predictions, in one statement each.</summary>
    private async Task InsertManyAsync(IEnumerable<SeedRow> rows)
    {
        const string sql = """
            WITH r AS (
                SELECT * FROM unnest(@Models, @Classes, @Confidences, @Created, @Labels, @Probabilities) WITH ORDINALITY
                    AS r (model, likely_class, confidence, created_at, true_label, probabilities, n)),
            i AS (
                INSERT INTO inputs (filename, content_type, data, sha256, byte_size, width, height, created_at)
                SELECT 'seed.png', 'image/png', @Image, sha256(convert_to(n::text || random()::text, 'UTF8')), 1, 1, 1, created_at
                FROM r ORDER BY n
                RETURNING id, created_at),
            numbered AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM i)
            INSERT INTO predictions (input_id, model_name, model_version, probabilities, likely_class, confidence, created_at, true_label, labeled_at)
            SELECT numbered.id, r.model, '1', r.probabilities::jsonb, r.likely_class, r.confidence, r.created_at, r.true_label,
                   CASE WHEN r.true_label IS NULL THEN NULL ELSE r.created_at END
            FROM r JOIN numbered USING (n)
            ORDER BY n
            RETURNING id
            """;
        var list = rows.ToList();
        await using var connection = new NpgsqlConnection(_database);
        var ids = (await connection.QueryAsync<long>(sql, new
        {
            Models = list.Select(r => r.Model).ToArray(),
            Classes = list.Select(r => r.LikelyClass).ToArray(),
            Confidences = list.Select(r => r.Confidence).ToArray(),
            Created = list.Select(r => r.CreatedAt).ToArray(),
            Labels = list.Select(r => r.TrueLabel).ToArray(),
            Probabilities = list.Select(r => JsonSerializer.Serialize(r.Probabilities())).ToArray(),
            Image = Seed.ImageBase64,
        })).ToList();
        // RETURNING follows insertion order, which follows n.
        for (var k = 0; k < list.Count; k++)
        {
            list[k].Id = ids[k];
        }
    }

    private async Task RetainAsync(string query)
    {
        using var response = await _client.DeleteAsync("/predictions?" + query);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        Assert.True((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("deleted").GetInt64() > 0, query);
    }

    private async Task<List<StatsGroup>> FullScanAsync(string model, DateTime? from, DateTime? to)
    {
        await using var connection = new NpgsqlConnection(_database);
        return (await connection.QueryAsync<StatsGroup>(FullScanSql, new { Model = model, From = from, To = to })).AsList();
    }

    /// <summary>The JSON answer for the range against the full scan's groups: counts, sums and feedback, exactly.</summary>
    private async Task AssertAnswerAsync(string model, DateTime? from, DateTime? to, List<StatsGroup> expected, string context)
    {
        var query = $"model={model}" + (from is { } f ? $"&from={Iso(f)}" : "") + (to is { } t ? $"&to={Iso(t)}" : "");
        using var response = await _client.GetAsync("/predictions/stats?" + query);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        var stats = JsonSerializer.Deserialize<JsonElement>(text);

        var total = expected.Sum(g => g.Count);
        Assert.True(total == stats.GetProperty("total").GetInt64(), context);
        if (total > 0)
        {
            Assert.True(expected.Sum(g => g.ConfidenceSum) / total == stats.GetProperty("mean_confidence").GetDouble(), context);
        }

        var classes = stats.GetProperty("classes").EnumerateArray().ToList();
        foreach (var byClass in expected.GroupBy(g => g.LikelyClass))
        {
            Assert.True(byClass.Sum(g => g.Count) == classes[byClass.Key].GetProperty("count").GetInt64(), context);
        }

        var histogram = stats.GetProperty("confidence_histogram").EnumerateArray().Select(b => b.GetProperty("count").GetInt64()).ToArray();
        Assert.True(Enumerable.Range(0, 10).Select(b => expected.Where(g => g.Bin == b).Sum(g => g.Count)).SequenceEqual(histogram), context);
        var feedback = stats.GetProperty("feedback");
        Assert.True(expected.Where(g => g.TrueLabel is not null).Sum(g => g.Count) == feedback.GetProperty("labeled").GetInt64(), context);
        // Other models' classes are named by index, as the served model's are: a label is correct when it is the class's index.
        var correct = expected.Where(g => g.TrueLabel == g.LikelyClass.ToString(CultureInfo.InvariantCulture)).Sum(g => g.Count);
        Assert.True(correct == feedback.GetProperty("correct").GetInt64(), context);
    }
}
