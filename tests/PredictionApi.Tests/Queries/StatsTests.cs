using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace PredictionApi.Tests.Queries;

/// <summary>GET /predictions/stats: per-class counts, mean confidence, histogram, accuracy and confusion matrix.</summary>
public sealed class StatsTests(ServiceFixture service) : IClassFixture<ServiceFixture>
{
    private readonly HttpClient _client = service.Factory.CreateClient();

    private async Task<JsonElement> StatsAsync(string query)
    {
        using var response = await _client.GetAsync("/predictions/stats?" + query);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return JsonSerializer.Deserialize<JsonElement>(text);
    }

    private static long[] Histogram(JsonElement stats) =>
        stats.GetProperty("confidence_histogram").EnumerateArray().Select(b => b.GetProperty("count").GetInt64()).ToArray();

    [Fact]
    public async Task StatsCountClassesAverageConfidenceAndBinItOnTenFixedIntervals()
    {
        var model = Seed.UniqueModel();
        var start = Seed.UniqueWindow();
        // Confidences on and between bin edges: 0.1 opens the second bin, 1.0 closes the last.
        float[] confidences = [0.05f, 0.1f, 0.15f, 0.7f, 0.7f, 0.95f, 1.0f, 0.3f];
        var rows = confidences.Select((c, i) => new SeedRow(model, i % 3, c, start.AddSeconds(i))).ToList();
        await Seed.InsertAsync(service.ConnectionString, rows);

        var stats = await StatsAsync($"model={model}");

        Assert.Equal(model, stats.GetProperty("model").GetString());
        Assert.Equal(8, stats.GetProperty("total").GetInt64());
        Assert.Equal(confidences.Average(c => (double)c), stats.GetProperty("mean_confidence").GetDouble(), 6);
        Assert.Equal([1L, 2, 0, 1, 0, 0, 0, 2, 0, 2], Histogram(stats));
        var bins = stats.GetProperty("confidence_histogram").EnumerateArray().ToList();
        Assert.Equal(10, bins.Count);
        Assert.Equal((0.0, 0.1), (bins[0].GetProperty("min").GetDouble(), bins[0].GetProperty("max").GetDouble()));
        Assert.Equal((0.9, 1.0), (bins[9].GetProperty("min").GetDouble(), bins[9].GetProperty("max").GetDouble()));

        // Another model's class names are unknown to the service: classes are named by index.
        var classes = stats.GetProperty("classes").EnumerateArray().ToList();
        Assert.Equal([0, 1, 2], classes.Select(c => c.GetProperty("class").GetInt32()));
        Assert.Equal(["0", "1", "2"], classes.Select(c => c.GetProperty("label").GetString()));
        for (var k = 0; k < 3; k++)
        {
            var mine = rows.Where(r => r.LikelyClass == k).ToList();
            Assert.Equal(mine.Count, classes[k].GetProperty("count").GetInt64());
            Assert.Equal(mine.Average(r => (double)r.Confidence), classes[k].GetProperty("mean_confidence").GetDouble(), 6);
        }

        // Without feedback there is no accuracy to report.
        var feedback = stats.GetProperty("feedback");
        Assert.Equal(0, feedback.GetProperty("labeled").GetInt64());
        Assert.Equal(JsonValueKind.Null, feedback.GetProperty("accuracy").ValueKind);
        Assert.Equal(JsonValueKind.Null, feedback.GetProperty("confusion_matrix").ValueKind);
    }

    [Fact]
    public async Task FeedbackGivesAccuracyAndAConfusionMatrixOfTrueByPredictedLabel()
    {
        var model = Seed.UniqueModel();
        var start = Seed.UniqueWindow();
        var rows = new List<SeedRow>
        {
            new(model, 0, 0.9f, start, "0"),
            new(model, 0, 0.8f, start.AddSeconds(1), "0"),
            new(model, 1, 0.6f, start.AddSeconds(2), "0"),
            new(model, 1, 0.9f, start.AddSeconds(3), "1"),
            new(model, 2, 0.5f, start.AddSeconds(4), "1"),
            new(model, 2, 0.7f, start.AddSeconds(5), "tulip"),
            new(model, 2, 0.99f, start.AddSeconds(6)),
        };
        await Seed.InsertAsync(service.ConnectionString, rows);

        var feedback = (await StatsAsync($"model={model}")).GetProperty("feedback");

        Assert.Equal(6, feedback.GetProperty("labeled").GetInt64());
        Assert.Equal(3, feedback.GetProperty("correct").GetInt64());
        Assert.Equal(0.5, feedback.GetProperty("accuracy").GetDouble(), 9);
        var matrix = feedback.GetProperty("confusion_matrix");
        // The classes in order, then true labels that are not class names.
        Assert.Equal(["0", "1", "2", "tulip"], matrix.GetProperty("labels").EnumerateArray().Select(l => l.GetString()));
        long[][] expected =
        [
            [1 + 1, 1, 0, 0],
            [0, 1, 1, 0],
            [0, 0, 0, 0],
            [0, 0, 1, 0],
        ];
        var actual = matrix.GetProperty("counts").EnumerateArray().Select(r => r.EnumerateArray().Select(c => c.GetInt64()).ToArray()).ToArray();
        Assert.Equal(expected, actual);
    }

    [Fact]
    public async Task FromAndToLimitTheRange()
    {
        var model = Seed.UniqueModel();
        var start = Seed.UniqueWindow();
        var rows = Enumerable.Range(0, 10).Select(i => new SeedRow(model, i % 2, 0.55f, start.AddMinutes(i))).ToList();
        await Seed.InsertAsync(service.ConnectionString, rows);

        var stats = await StatsAsync($"model={model}&from={Seed.Iso(start.AddMinutes(2))}&to={Seed.Iso(start.AddMinutes(5))}");

        Assert.Equal(3, stats.GetProperty("total").GetInt64());
        Assert.Equal(start.AddMinutes(2), stats.GetProperty("from").GetDateTime());
        Assert.Equal(start.AddMinutes(5), stats.GetProperty("to").GetDateTime());
        Assert.Equal([2L, 1], stats.GetProperty("classes").EnumerateArray().Select(c => c.GetProperty("count").GetInt64()));
        Assert.Equal([0L, 0, 0, 0, 0, 3, 0, 0, 0, 0], Histogram(stats));

        var empty = await StatsAsync($"model={model}&from={Seed.Iso(start.AddDays(1))}");
        Assert.Equal(0, empty.GetProperty("total").GetInt64());
        Assert.Equal(JsonValueKind.Null, empty.GetProperty("mean_confidence").ValueKind);
        Assert.Empty(empty.GetProperty("classes").EnumerateArray());
    }

    [Fact]
    public async Task TheServedModelIsTheDefaultAndNamesItsClassesFromTheManifest()
    {
        var before = DateTime.UtcNow.AddSeconds(-1);
        var posted = new List<JsonElement>();
        foreach (var index in new[] { 0, 1, 2 })
        {
            posted.Add(await _client.PostPredictionAsync(Mnist.Png(index)));
        }

        var stats = await StatsAsync($"from={Seed.Iso(before)}");

        Assert.Equal("mnist", stats.GetProperty("model").GetString());
        Assert.True(stats.GetProperty("total").GetInt64() >= 3);
        var classes = stats.GetProperty("classes").EnumerateArray().ToList();
        Assert.Equal(Enumerable.Range(0, 10).Select(i => i.ToString()), classes.Select(c => c.GetProperty("label").GetString()));
        foreach (var p in posted)
        {
            Assert.True(classes[p.GetProperty("likely_class").GetInt32()].GetProperty("count").GetInt64() >= 1);
        }
    }

    [Theory]
    [InlineData("from=last-week", "from")]
    [InlineData("to=2026-02-30", "to")]
    [InlineData("from=2026-03-02&to=2026-03-01", "earlier than to")]
    [InlineData("model=", "model")]
    [InlineData("model=a%20b", "model")]
    public async Task MalformedStatsQueriesAreBadRequests(string query, string detail)
    {
        using var response = await _client.GetAsync("/predictions/stats?" + query);
        await ProblemAssert.AssertProblemAsync(response, HttpStatusCode.BadRequest, detail);
    }
}
