using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using PredictionApi.Comparison;
using PredictionApi.Predictions;
using PredictionApi.Tests.Models;

namespace PredictionApi.Tests.Queries;

/// <summary>
/// The counts behind GET /predictions/stats, /stats/series and /models/compare are kept by triggers in the writers'
/// transactions. Here several clients write at once through the real service and real models (uploads, batches,
/// shadows answering in the background, labels, relabels, deletes and retention in small chunks), and afterwards every
/// answer must equal a computation from the predictions themselves. Own database and models folder.
/// </summary>
public sealed class ConcurrentAggregatesTests : IAsyncLifetime
{
    // Fixed, so a failure names what to rerun; the interleaving still varies from run to run.
    private const int Seed = 20261130;
    private static readonly TimeSpan WritingTime = TimeSpan.FromSeconds(4);
    private static readonly string[] Digits = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
    private static readonly string[] Garments = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    // Where an upload goes: mnist is shadowed by fashion, digits 1 (serving) by digits 2; digits 2 also answers directly.
    private static readonly string[] Targets = ["model=mnist", "model=fashion", "model=digits", "model=digits&version=2"];

    // The statistics from the rows: answered (not shadow) predictions, with the true label of their input.
    private const string StatsSql = """
        SELECT p.likely_class AS LikelyClass, least(floor(p.confidence * 10::real), 9)::int AS Bin, i.true_label AS TrueLabel,
               count(*) AS Count, sum(p.confidence::float8) AS ConfidenceSum
        FROM predictions p JOIN inputs i ON i.id = p.input_id
        WHERE p.model_name = @Model AND NOT p.shadow
          AND (@From::timestamptz IS NULL OR p.created_at >= @From) AND (@To::timestamptz IS NULL OR p.created_at < @To)
        GROUP BY 1, 2, 3
        """;

    private const string SeriesSql = """
        SELECT date_trunc('hour', p.created_at AT TIME ZONE 'UTC') AS Hour, p.likely_class AS LikelyClass, count(*) AS Count
        FROM predictions p
        WHERE p.model_name = @Model AND NOT p.shadow AND p.created_at >= @From AND p.created_at < @To
        GROUP BY 1, 2
        """;

    // The comparison from the rows: each version's newest prediction of each input (shadows included), paired on the input.
    private const string CompareSql = """
        WITH current AS (
            SELECT DISTINCT ON (input_id, model_name, model_version) input_id, model_name, model_version, likely_class
            FROM predictions ORDER BY input_id, model_name, model_version, id DESC),
        baseline AS (SELECT * FROM current WHERE model_name = @BaselineName AND (@BaselineVersion::text IS NULL OR model_version = @BaselineVersion)),
        candidate AS (SELECT * FROM current WHERE model_name = @CandidateName AND (@CandidateVersion::text IS NULL OR model_version = @CandidateVersion))
        SELECT b.likely_class AS BaselineClass, c.likely_class AS CandidateClass, i.true_label AS TrueLabel, count(*) AS Count
        FROM baseline b JOIN candidate c ON c.input_id = b.input_id JOIN inputs i ON i.id = b.input_id
        WHERE (@From::timestamptz IS NULL OR i.created_at >= @From) AND (@To::timestamptz IS NULL OR i.created_at < @To)
        GROUP BY 1, 2, 3
        """;

    private readonly string _folder = SyntheticModels.TempModelsFolder();
    private ConfiguredService _service = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        ModelFolder.CopyShipped(_folder, "mnist");
        ModelFolder.CopyShipped(_folder, "fashion");
        // "digits": version 1 is the digit network, version 2 the garment network read as digits, so they often disagree.
        WriteVersion("digits", "1", "mnist", labels: null);
        WriteVersion("digits", "2", "fashion", labels: Digits);
        _service = await ConfiguredService.CreateAsync("concurrent", new Dictionary<string, string?>
        {
            ["Model:Directory"] = _folder,
            ["Model:Versions:digits"] = "1",
            ["Model:Shadows:digits:0"] = "digits:2",
            ["Model:Shadows:mnist:0"] = "fashion",
            // Small chunks: a retention delete is many transactions interleaved with the writers.
            ["Retention:ChunkSize"] = "5",
            ["Retention:ChunkPausePercent"] = "0",
        });
        _client = _service.Factory.CreateClient();
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _service.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task StatsAndComparisonsStayExactUnderConcurrentUploadsLabelsDeletesAndRetention()
    {
        var known = new List<(long Id, string Model)>();
        var marks = new List<DateTime>();
        var started = Now();
        var deadline = DateTime.UtcNow + WritingTime;

        var workers = Enumerable.Range(0, 4).Select(w => Task.Run(() => WriteAsync(new Random(Seed + w), known, deadline))).ToList();
        // Retention of the oldest predictions twice while the others write: before a time a third, then half, of the way.
        workers.Add(Task.Run(async () =>
        {
            foreach (var (at, cut) in new[] { (0.45, 0.3), (0.8, 0.5) })
            {
                var wait = started + WritingTime * at - DateTime.UtcNow;
                await Task.Delay(wait > TimeSpan.Zero ? wait : TimeSpan.Zero);
                var before = started + WritingTime * cut;
                lock (marks)
                {
                    marks.Add(before);
                }

                using var response = await _client.DeleteAsync($"/predictions?before={Iso(before)}");
                Assert.True(response.StatusCode == HttpStatusCode.OK, $"seed {Seed}: retention {response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            }
        }));
        await Task.WhenAll(workers);
        var ended = Now();
        await WaitForShadowsAsync();

        await using var connection = new NpgsqlConnection(_service.Database);
        var (answered, shadows) = await connection.QuerySingleAsync<(long, long)>(
            "SELECT count(*) FILTER (WHERE NOT shadow), count(*) FILTER (WHERE shadow) FROM predictions");
        // Enough of everything happened for the comparison below to mean something.
        Assert.True(answered > 40 && shadows > 10, $"seed {Seed}: only {answered} answered and {shadows} shadow predictions");
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>(
            "SELECT count(*) FROM predictions p JOIN inputs i ON i.id = p.input_id WHERE p.true_label IS DISTINCT FROM i.true_label"));
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM predictions WHERE created_at < @m", new { m = marks.Max() }));

        // Ranges: everything, bounds inside the run (partial hours), whole hours and a whole day around it.
        var middle = started + (ended - started) / 2;
        var hour = Hour(started);
        var ranges = new List<(DateTime? From, DateTime? To)>
        {
            (null, null), (middle, null), (null, middle), (marks[0], middle), (hour.AddHours(-1), middle), (middle, hour.AddHours(3)),
            (hour.AddHours(-2), hour.AddHours(2)), (hour.Date, hour.Date.AddDays(1)),
        };
        var random = new Random(Seed);
        for (var i = 0; i < 4; i++)
        {
            var (a, b) = (Between(random, started, ended), Between(random, started, ended));
            ranges.Add(a < b ? (a, b) : (b, a));
        }

        foreach (var model in new[] { "mnist", "fashion", "digits" })
        {
            foreach (var (from, to) in ranges)
            {
                await AssertStatsAsync(connection, model, from, to);
            }

            await AssertSeriesAsync(connection, model, hour.AddHours(-1), Hour(ended).AddHours(2));
        }

        foreach (var (baseline, candidate) in new[] { ("digits:1", "digits:2"), ("digits:2", "digits:1"), ("mnist", "fashion"), ("fashion:1.0.0", "mnist:2.0.0"), ("digits", "mnist") })
        {
            foreach (var (from, to) in ranges)
            {
                await AssertComparisonAsync(connection, baseline, candidate, from, to);
            }
        }
    }

    /// <summary>One client: uploads and batches to every target, labels, relabels and clears them, deletes, until the deadline.</summary>
    private async Task WriteAsync(Random random, List<(long Id, string Model)> known, DateTime deadline)
    {
        while (DateTime.UtcNow < deadline)
        {
            var roll = random.Next(100);
            if (roll < 35 || known.Count < 8)
            {
                var target = Targets[random.Next(Targets.Length)];
                var files = roll % 3 == 0 ? random.Next(2, 7) : 1;
                using var form = new MultipartFormDataContent();
                for (var f = 0; f < files; f++)
                {
                    var image = new ByteArrayContent(Mnist.Png(random.Next(2000)));
                    image.Headers.ContentType = new("image/png");
                    form.Add(image, "file", $"d{f}.png");
                }

                using var response = await _client.PostAsync(files == 1 ? $"/prediction?{target}" : $"/predictions/batch?{target}", form);
                var text = await response.Content.ReadAsStringAsync();
                // A refusal under load (503) stores nothing; anything else but success is a failure of its own.
                if (response.StatusCode == HttpStatusCode.ServiceUnavailable)
                {
                    continue;
                }

                Assert.True(response.StatusCode == HttpStatusCode.OK, $"seed {Seed}: upload {response.StatusCode} {text}");
                var answer = JsonSerializer.Deserialize<JsonElement>(text);
                var items = answer.ValueKind == JsonValueKind.Array ? answer.EnumerateArray().ToList() : [answer];
                lock (known)
                {
                    known.AddRange(items.Where(i => i.TryGetProperty("prediction_id", out _))
                        .Select(i => (i.GetProperty("prediction_id").GetInt64(), i.GetProperty("model").GetProperty("name").GetString()!)));
                }
            }
            else
            {
                (long Id, string Model) pick;
                lock (known)
                {
                    // Mostly recent ones, which the other clients are still writing beside.
                    pick = known[Math.Max(0, known.Count - 1 - random.Next(Math.Min(known.Count, random.Next(2) == 0 ? 30 : known.Count)))];
                }

                if (roll < 85)
                {
                    var labels = pick.Model == "fashion" ? Garments : Digits;
                    var json = random.Next(6) == 0 ? """{"true_label": null}""" : JsonSerializer.Serialize(new { true_label = labels[random.Next(labels.Length)] });
                    using var response = await _client.PatchAsync($"/prediction/{pick.Id}", new StringContent(json, Encoding.UTF8, "application/json"));
                    Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.NotFound,
                        $"seed {Seed}: PATCH {pick.Id} {response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                }
                else
                {
                    using var response = await _client.DeleteAsync($"/prediction/{pick.Id}");
                    Assert.True(response.StatusCode is HttpStatusCode.NoContent or HttpStatusCode.NotFound,
                        $"seed {Seed}: DELETE {pick.Id} {response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                }
            }
        }
    }

    /// <summary>
    /// Shadows answer after the response, in the background: wait until their queue is empty and no prediction has
    /// arrived for a second (a group taken from the queue is still being written for a moment; on a busy machine, longer).
    /// </summary>
    private async Task WaitForShadowsAsync()
    {
        await using var connection = new NpgsqlConnection(_service.Database);
        var shadows = _service.Factory.Services.GetRequiredService<ShadowQueue>();
        var (last, quiet) = (-1L, 0);
        for (var attempt = 0; attempt < 150 && quiet < 5; attempt++)
        {
            await Task.Delay(200);
            var now = await connection.ExecuteScalarAsync<long>("SELECT coalesce(max(id), 0) FROM predictions");
            (last, quiet) = (now, now == last && shadows.Count == 0 ? quiet + 1 : 0);
        }
    }

    private async Task AssertStatsAsync(NpgsqlConnection connection, string model, DateTime? from, DateTime? to)
    {
        var context = $"seed {Seed}: stats of {model} from {Describe(from)} to {Describe(to)}";
        var groups = (await connection.QueryAsync<StatsGroup>(StatsSql, new { Model = model, From = from, To = to })).ToList();
        var query = Query(model == "mnist" && from is null ? null : $"model={model}", from, to);
        var answer = await GetAsync($"/predictions/stats{query}", context);

        var classes = answer.GetProperty("classes").EnumerateArray().ToList();
        string Name(int c) => c < classes.Count ? classes[c].GetProperty("label").GetString()! : c.ToString(CultureInfo.InvariantCulture);
        var total = groups.Sum(g => g.Count);
        Assert.True(total == answer.GetProperty("total").GetInt64(), $"{context}: total {answer.GetProperty("total")}, rows {total}");
        Assert.True(total == 0 ? answer.GetProperty("mean_confidence").ValueKind == JsonValueKind.Null
            : groups.Sum(g => g.ConfidenceSum) / total == answer.GetProperty("mean_confidence").GetDouble(), $"{context}: mean_confidence");
        Assert.True(groups.All(g => g.LikelyClass < classes.Count), $"{context}: a class missing from the answer");
        foreach (var (row, c) in classes.Select((row, c) => (row, c)))
        {
            var count = groups.Where(g => g.LikelyClass == c).Sum(g => g.Count);
            Assert.True(count == row.GetProperty("count").GetInt64(), $"{context}: class {c} counts {row.GetProperty("count")}, rows {count}");
            Assert.True(count == 0 ? row.GetProperty("mean_confidence").ValueKind == JsonValueKind.Null
                : groups.Where(g => g.LikelyClass == c).Sum(g => g.ConfidenceSum) / count == row.GetProperty("mean_confidence").GetDouble(), $"{context}: class {c} mean_confidence");
        }

        foreach (var (bin, b) in answer.GetProperty("confidence_histogram").EnumerateArray().Select((bin, b) => (bin, b)))
        {
            var count = groups.Where(g => g.Bin == b).Sum(g => g.Count);
            Assert.True(count == bin.GetProperty("count").GetInt64(), $"{context}: bin {b} counts {bin.GetProperty("count")}, rows {count}");
        }

        var feedback = answer.GetProperty("feedback");
        var labeled = groups.Where(g => g.TrueLabel is not null).ToList();
        Assert.True(labeled.Sum(g => g.Count) == feedback.GetProperty("labeled").GetInt64(), $"{context}: labeled {feedback.GetProperty("labeled")}, rows {labeled.Sum(g => g.Count)}");
        Assert.True(labeled.Where(g => g.TrueLabel == Name(g.LikelyClass)).Sum(g => g.Count) == feedback.GetProperty("correct").GetInt64(), $"{context}: correct");
        if (labeled.Count > 0)
        {
            var matrix = feedback.GetProperty("confusion_matrix");
            var axis = matrix.GetProperty("labels").EnumerateArray().Select(l => l.GetString()!).ToList();
            var counts = matrix.GetProperty("counts").EnumerateArray().Select(r => r.EnumerateArray().Select(c => c.GetInt64()).ToArray()).ToArray();
            for (var t = 0; t < axis.Count; t++)
            {
                for (var p = 0; p < axis.Count; p++)
                {
                    var count = labeled.Where(g => g.TrueLabel == axis[t] && Name(g.LikelyClass) == axis[p]).Sum(g => g.Count);
                    Assert.True(count == counts[t][p], $"{context}: confusion [{axis[t]}][{axis[p]}] counts {counts[t][p]}, rows {count}");
                }
            }

            Assert.True(labeled.All(g => axis.Contains(g.TrueLabel!)), $"{context}: a true label missing from the confusion matrix");
        }
    }

    private async Task AssertSeriesAsync(NpgsqlConnection connection, string model, DateTime from, DateTime to)
    {
        var context = $"seed {Seed}: series of {model} from {Describe(from)} to {Describe(to)}";
        var rows = (await connection.QueryAsync<(DateTime Hour, int LikelyClass, long Count)>(SeriesSql, new { Model = model, From = from, To = to })).ToList();
        var answer = await GetAsync($"/predictions/stats/series{Query($"model={model}", from, to)}", context);
        var buckets = answer.GetProperty("buckets").EnumerateArray().ToList();
        Assert.True(rows.Sum(r => r.Count) == answer.GetProperty("total").GetInt64(), $"{context}: total {answer.GetProperty("total")}, rows {rows.Sum(r => r.Count)}");
        foreach (var bucket in buckets)
        {
            var start = bucket.GetProperty("start").GetDateTime().ToUniversalTime();
            var counts = bucket.GetProperty("counts").EnumerateArray().Select(c => c.GetInt64()).ToArray();
            for (var c = 0; c < counts.Length; c++)
            {
                var count = rows.Where(r => r.Hour == start && r.LikelyClass == c).Sum(r => r.Count);
                Assert.True(count == counts[c], $"{context}: hour {Describe(start)} class {c} counts {counts[c]}, rows {count}");
            }
        }
    }

    private async Task AssertComparisonAsync(NpgsqlConnection connection, string baselineText, string candidateText, DateTime? from, DateTime? to)
    {
        var context = $"seed {Seed}: {baselineText} vs {candidateText} from {Describe(from)} to {Describe(to)}";
        var (baseline, candidate) = (ComparedModel.Parse(baselineText)!, ComparedModel.Parse(candidateText)!);
        var groups = (await connection.QueryAsync<PairGroup>(CompareSql, new
        {
            BaselineName = baseline.Model, BaselineVersion = baseline.Version, CandidateName = candidate.Model, CandidateVersion = candidate.Version,
            From = from, To = to,
        })).ToList();
        var answer = await GetAsync($"/models/compare{Query($"baseline={baselineText}&candidate={candidateText}&limit=1", from, to)}", context);

        Assert.True(groups.Sum(g => g.Count) == answer.GetProperty("inputs").GetInt64(), $"{context}: inputs {answer.GetProperty("inputs")}, rows {groups.Sum(g => g.Count)}");
        Assert.True(groups.Where(g => g.BaselineClass == g.CandidateClass).Sum(g => g.Count) == answer.GetProperty("agreed").GetInt64(), $"{context}: agreed");
        var matrix = answer.GetProperty("matrix");
        var counts = matrix.GetProperty("counts").EnumerateArray().Select(r => r.EnumerateArray().Select(c => c.GetInt64()).ToArray()).ToArray();
        Assert.True(groups.All(g => g.BaselineClass < counts.Length && g.CandidateClass < counts[g.BaselineClass].Length), $"{context}: a class missing from the matrix");
        for (var b = 0; b < counts.Length; b++)
        {
            var row = answer.GetProperty("classes")[b];
            Assert.True(groups.Where(g => g.BaselineClass == b).Sum(g => g.Count) == row.GetProperty("inputs").GetInt64(), $"{context}: class {b} inputs");
            Assert.True(groups.Where(g => g.BaselineClass == b && g.CandidateClass == b).Sum(g => g.Count) == row.GetProperty("agreed").GetInt64(), $"{context}: class {b} agreed");
            for (var c = 0; c < counts[b].Length; c++)
            {
                var count = groups.Where(g => g.BaselineClass == b && g.CandidateClass == c).Sum(g => g.Count);
                Assert.True(count == counts[b][c], $"{context}: matrix [{b}][{c}] counts {counts[b][c]}, rows {count}");
            }
        }

        static Func<int, string> Names(JsonElement labels)
        {
            var list = labels.EnumerateArray().Select(l => l.GetString()!).ToList();
            return c => c < list.Count ? list[c] : c.ToString(CultureInfo.InvariantCulture);
        }

        var (baselineName, candidateName) = (Names(matrix.GetProperty("baseline_labels")), Names(matrix.GetProperty("candidate_labels")));
        var accuracy = answer.GetProperty("accuracy");
        var labeled = groups.Where(g => g.TrueLabel is not null).ToList();
        Assert.True(labeled.Sum(g => g.Count) == accuracy.GetProperty("labeled").GetInt64(), $"{context}: labeled {accuracy.GetProperty("labeled")}, rows {labeled.Sum(g => g.Count)}");
        Assert.True(labeled.Where(g => g.TrueLabel == baselineName(g.BaselineClass)).Sum(g => g.Count) == accuracy.GetProperty("baseline_correct").GetInt64(), $"{context}: baseline_correct");
        Assert.True(labeled.Where(g => g.TrueLabel == candidateName(g.CandidateClass)).Sum(g => g.Count) == accuracy.GetProperty("candidate_correct").GetInt64(), $"{context}: candidate_correct");
    }

    private async Task<JsonElement> GetAsync(string path, string context)
    {
        using var response = await _client.GetAsync(path);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{context}: {path} {response.StatusCode} {text}");
        return JsonSerializer.Deserialize<JsonElement>(text);
    }

    /// <summary>Writes _folder/name/version from a shipped model, its manifest renamed and, if given, relabelled.</summary>
    private void WriteVersion(string name, string version, string shipped, string[]? labels)
    {
        var folder = Path.Combine(_folder, name, version);
        Directory.CreateDirectory(folder);
        File.Copy(Path.Combine(RepoPaths.Models, shipped, "model.onnx"), Path.Combine(folder, "model.onnx"));
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(RepoPaths.Models, shipped, "model.json")))!.AsObject();
        manifest["name"] = name;
        manifest.Remove("version");
        if (labels is not null)
        {
            manifest["labels"] = new JsonArray(labels.Select(l => (JsonNode)JsonValue.Create(l)).ToArray());
        }

        File.WriteAllText(Path.Combine(folder, "model.json"), manifest.ToJsonString());
    }

    private static string Query(string? first, DateTime? from, DateTime? to)
    {
        var parts = new[] { first, from is { } f ? $"from={Iso(f)}" : null, to is { } t ? $"to={Iso(t)}" : null }.Where(p => p is not null).ToList();
        return parts.Count == 0 ? "" : "?" + string.Join('&', parts);
    }

    // Microseconds, as PostgreSQL keeps them, so the bound the service reads is the one the SQL above compares with.
    private static DateTime Now() => Micro(DateTime.UtcNow);

    private static DateTime Micro(DateTime time) => new(time.Ticks / 10 * 10, DateTimeKind.Utc);

    private static DateTime Between(Random random, DateTime from, DateTime to) => Micro(from.AddTicks(random.NextInt64(Math.Max(1, (to - from).Ticks))));

    private static DateTime Hour(DateTime time) => new(time.Year, time.Month, time.Day, time.Hour, 0, 0, DateTimeKind.Utc);

    private static string Iso(DateTime time) => Micro(time).ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);

    private static string? Describe(DateTime? time) => time is { } t ? Iso(t) : "-";
}
