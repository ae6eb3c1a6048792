using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace PredictionApi.Tests.Queries;

/// <summary>
/// The service on its own database, seeded once with rows of two models in a time window no other
/// test uses: classes, confidences, times and true labels vary in known patterns.
/// </summary>
public sealed class FilterFixture : IAsyncLifetime
{
    private readonly ServiceFixture _service = new();

    public string Model { get; } = Seed.UniqueModel();

    public string OtherModel { get; } = Seed.UniqueModel();

    public DateTime Start { get; } = Seed.UniqueWindow();

    public DateTime End => Start.AddSeconds(300);

    public List<SeedRow> Rows { get; } = [];

    public HttpClient Client { get; private set; } = null!;

    public string ConnectionString => _service.ConnectionString;

    private static readonly float[] Confidences = [0.3f, 0.5f, 0.7f, 0.9f, 0.95f, 0.2f, 0.7f, 1.0f, 0.45f];

    public async Task InitializeAsync()
    {
        await _service.InitializeAsync();
        Client = _service.Factory.CreateClient();
        for (var i = 0; i < 30; i++)
        {
            Rows.Add(new SeedRow(Model, i % 4, Confidences[i % Confidences.Length], Start.AddSeconds(i * 10), i % 3 == 0 ? ((i / 3) % 3).ToString() : null));
        }

        for (var i = 0; i < 10; i++)
        {
            Rows.Add(new SeedRow(OtherModel, i % 4, Confidences[(i + 4) % Confidences.Length], Start.AddSeconds(i * 10 + 5), i % 2 == 0 ? "1" : null));
        }

        // Two rows at the same instant: id breaks the tie in the order and in the cursor.
        Rows.Add(new SeedRow(Model, 1, 0.8f, Start.AddSeconds(123), "2"));
        Rows.Add(new SeedRow(Model, 1, 0.8f, Start.AddSeconds(123), "2"));
        await Seed.InsertAsync(ConnectionString, Rows);
    }

    public Task DisposeAsync() => _service.DisposeAsync();
}

/// <summary>GET /predictions filters, fields and cursors against real PostgreSQL.</summary>
public sealed class ListFilterTests(FilterFixture data) : IClassFixture<FilterFixture>
{
    private readonly HttpClient _client = data.Client;

    private string Window => $"from={Seed.Iso(data.Start)}&to={Seed.Iso(data.End)}";

    private string At(int seconds) => Seed.Iso(data.Start.AddSeconds(seconds));

    /// <summary>Every item of the query, following next_cursor with the given page size.</summary>
    private async Task<List<JsonElement>> WalkAsync(string query, int limit) => [.. (await _client.WalkPredictionsAsync(query, limit)).SelectMany(p => p)];

    private async Task AssertListsExactlyAsync(string query, Func<SeedRow, bool> matches)
    {
        var expected = data.Rows.Where(matches).OrderByDescending(r => r.CreatedAt).ThenByDescending(r => r.Id).Select(r => r.Id).ToList();

        foreach (var limit in new[] { 2, 500 })
        {
            var actual = (await WalkAsync(query, limit)).Select(i => i.GetProperty("prediction_id").GetInt64()).ToList();
            Assert.True(expected.SequenceEqual(actual), $"{query} (limit {limit}): expected [{string.Join(", ", expected)}], got [{string.Join(", ", actual)}]");
        }
    }

    [Fact]
    public async Task ModelAndTimeWindowSelectTheirRows()
    {
        await AssertListsExactlyAsync($"model={data.Model}", r => r.Model == data.Model);
        await AssertListsExactlyAsync(Window, _ => true);
        await AssertListsExactlyAsync($"model={data.OtherModel}&{Window}", r => r.Model == data.OtherModel);
    }

    [Fact]
    public async Task LikelyClassFiltersWithAndWithoutAModel()
    {
        await AssertListsExactlyAsync($"likely_class=2&{Window}", r => r.LikelyClass == 2);
        await AssertListsExactlyAsync($"model={data.Model}&likely_class=1", r => r.Model == data.Model && r.LikelyClass == 1);
    }

    [Fact]
    public async Task LabelMatchesTheRecordedTrueLabel()
    {
        await AssertListsExactlyAsync($"label=1&{Window}", r => r.TrueLabel == "1");
        await AssertListsExactlyAsync($"model={data.Model}&label=2", r => r.Model == data.Model && r.TrueLabel == "2");
        await AssertListsExactlyAsync($"model={data.Model}&label=2&likely_class=1", r => r.Model == data.Model && r.TrueLabel == "2" && r.LikelyClass == 1);
        await AssertListsExactlyAsync($"model={data.Model}&label=never-recorded", _ => false);
    }

    [Fact]
    public async Task ConfidenceBoundsAreInclusive()
    {
        await AssertListsExactlyAsync($"model={data.Model}&min_confidence=0.7", r => r.Model == data.Model && r.Confidence >= 0.7f);
        await AssertListsExactlyAsync($"model={data.Model}&max_confidence=0.7", r => r.Model == data.Model && r.Confidence <= 0.7f);
        await AssertListsExactlyAsync($"model={data.Model}&min_confidence=0.5&max_confidence=0.9", r => r.Model == data.Model && r.Confidence is >= 0.5f and <= 0.9f);
        await AssertListsExactlyAsync($"model={data.Model}&min_confidence=1", r => r.Model == data.Model && r.Confidence == 1f);
        await AssertListsExactlyAsync($"{Window}&min_confidence=0.7&max_confidence=0.7", r => r.Confidence == 0.7f);
    }

    [Fact]
    public async Task FromIsInclusiveAndToIsExclusive()
    {
        var from = data.Start.AddSeconds(50);
        var to = data.Start.AddSeconds(150);
        await AssertListsExactlyAsync($"model={data.Model}&from={At(50)}&to={At(150)}", r => r.Model == data.Model && r.CreatedAt >= from && r.CreatedAt < to);
        await AssertListsExactlyAsync($"model={data.Model}&from={At(50)}", r => r.Model == data.Model && r.CreatedAt >= from);
        await AssertListsExactlyAsync($"model={data.Model}&to={At(150)}", r => r.Model == data.Model && r.CreatedAt < to);
    }

    [Fact]
    public async Task ASeventhFractionalDigitKeepsTheBoundsExact()
    {
        // PostgreSQL keeps microseconds: a bound 100 ns after a row's time must still leave it out (from) or take it in (to).
        var from = data.Start.AddSeconds(50).AddTicks(1);
        var to = data.Start.AddSeconds(150).AddTicks(1);
        static string Iso7(DateTime t) => t.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", System.Globalization.CultureInfo.InvariantCulture);
        await AssertListsExactlyAsync($"model={data.Model}&from={Iso7(from)}&to={Iso7(to)}", r => r.Model == data.Model && r.CreatedAt >= from && r.CreatedAt < to);
        Assert.Contains(data.Rows, r => r.Model == data.Model && r.CreatedAt == data.Start.AddSeconds(50));
        Assert.Contains(data.Rows, r => r.Model == data.Model && r.CreatedAt == data.Start.AddSeconds(150));
    }

    [Fact]
    public async Task FiltersCombine()
    {
        await AssertListsExactlyAsync($"label=0&min_confidence=0.9&{Window}", r => r.TrueLabel == "0" && r.Confidence >= 0.9f);
        await AssertListsExactlyAsync($"model={data.Model}&likely_class=3&max_confidence=0.5&from={At(20)}&to={At(250)}",
            r => r.Model == data.Model && r.LikelyClass == 3 && r.Confidence <= 0.5f && r.CreatedAt >= data.Start.AddSeconds(20) && r.CreatedAt < data.Start.AddSeconds(250));
        await AssertListsExactlyAsync($"model={data.Model}&likely_class=1&label=2&min_confidence=0.8&max_confidence=0.8&from={At(123)}&to={At(124)}",
            r => r.Model == data.Model && r.LikelyClass == 1 && r.TrueLabel == "2" && r.Confidence == 0.8f && r.CreatedAt == data.Start.AddSeconds(123));
    }

    [Theory]
    [InlineData("2001-01-01", "2100-01-01")]
    [InlineData("{start}", "{end}")]
    [InlineData("{start-as-+02:00}", "{end-as--05:30}")]
    [InlineData("{start-as-unescaped-+02:00}", "{end}")]
    [InlineData("{start-with-fraction}", "{end}")]
    public async Task TimesAreReadAsIso8601WithUtcAsTheDefault(string fromTemplate, string toTemplate)
    {
        string Expand(string template) => template switch
        {
            "{start}" => Seed.Iso(data.Start),
            "{end}" => Seed.Iso(data.End),
            "{start-as-+02:00}" => Uri.EscapeDataString(data.Start.AddHours(2).ToString("yyyy-MM-dd'T'HH:mm:ss") + "+02:00"),
            "{end-as--05:30}" => data.End.AddHours(-5.5).ToString("yyyy-MM-dd'T'HH:mm:ss") + "-05:30",
            // A '+' left unescaped in a URL arrives as a space; the service reads it back as '+'.
            "{start-as-unescaped-+02:00}" => data.Start.AddHours(2).ToString("yyyy-MM-dd'T'HH:mm:ss") + "+02:00",
            "{start-with-fraction}" => data.Start.ToString("yyyy-MM-dd'T'HH:mm:ss") + ".0000000",
            _ => template,
        };

        var query = $"model={data.Model}&from={Expand(fromTemplate)}&to={Expand(toTemplate)}";
        await AssertListsExactlyAsync(query, r => r.Model == data.Model);
    }

    [Fact]
    public async Task FieldsChooseWhatEachItemCarries()
    {
        var query = $"model={data.Model}&from={At(0)}&to={At(1)}";
        var plain = (await WalkAsync(query, 10)).Single();
        var plainKeys = plain.EnumerateObject().Select(p => p.Name).ToList();
        Assert.DoesNotContain("image", plainKeys);
        Assert.Contains("labels", plainKeys);
        Assert.Contains("labeled_at", plainKeys);

        var some = (await WalkAsync(query + "&fields=likely_class,confidence", 10)).Single();
        Assert.Equal(["prediction_id", "likely_class", "confidence"], some.EnumerateObject().Select(p => p.Name));
        Assert.Equal(plain.GetProperty("confidence").GetSingle(), some.GetProperty("confidence").GetSingle());

        var star = (await WalkAsync(query + "&fields=*", 10)).Single();
        Assert.Equal(plainKeys, star.EnumerateObject().Select(p => p.Name));
        Assert.Equal(plain.GetRawText(), star.GetRawText());

        var withImage = (await WalkAsync(query + "&fields=*,image", 10)).Single();
        Assert.Equal([.. plainKeys, "image"], withImage.EnumerateObject().Select(p => p.Name));
        Assert.Equal("data:image/png;base64," + Seed.ImageBase64, withImage.GetProperty("image").GetString());

        var imageOnly = (await WalkAsync(query + "&fields=image", 10)).Single();
        Assert.Equal(["prediction_id", "image"], imageOnly.EnumerateObject().Select(p => p.Name));

        // Fields do not change which rows a cursor continues with.
        var ids = (await WalkAsync($"model={data.Model}&fields=true_label", 3)).Select(i => i.GetProperty("prediction_id").GetInt64());
        Assert.Equal(data.Rows.Where(r => r.Model == data.Model).OrderByDescending(r => r.CreatedAt).ThenByDescending(r => r.Id).Select(r => r.Id), ids);
    }

    [Fact]
    public async Task ACursorOnlyContinuesTheFiltersItWasIssuedFor()
    {
        var issuedFor = $"model={data.Model}&label=2&min_confidence=0.1&{Window}";
        var first = await _client.GetFromJsonAsync<JsonElement>($"/predictions?{issuedFor}&limit=1");
        var cursor = first.GetProperty("next_cursor").GetString();
        Assert.NotNull(cursor);

        foreach (var other in new[]
        {
            $"model={data.Model}&label=1&min_confidence=0.1&{Window}",
            $"model={data.Model}&min_confidence=0.1&{Window}",
            $"model={data.Model}&label=2&min_confidence=0.2&{Window}",
            $"model={data.Model}&label=2&min_confidence=0.1&max_confidence=1&{Window}",
            $"model={data.Model}&label=2&min_confidence=0.1&from={At(1)}&to={Seed.Iso(data.End)}",
            $"model={data.OtherModel}&label=2&min_confidence=0.1&{Window}",
            $"label=2&min_confidence=0.1&likely_class=1&model={data.Model}&{Window}",
        })
        {
            using var response = await _client.GetAsync($"/predictions?{other}&cursor={cursor}");
            await ProblemAssert.AssertProblemAsync(response, HttpStatusCode.BadRequest, "other filters");
        }

        // The same filters in another order, with another page size and other fields, continue.
        using var same = await _client.GetAsync($"/predictions?{Window}&min_confidence=0.1&label=2&model={data.Model}&limit=3&fields=likely_class&cursor={cursor}");
        Assert.Equal(HttpStatusCode.OK, same.StatusCode);
    }

    public static TheoryData<string, string> MalformedQueries => new()
    {
        { "likely_class=-1", "likely_class" },
        { "likely_class=1.5", "likely_class" },
        { "likely_class=99999999999", "likely_class" },
        { "min_confidence=2", "min_confidence" },
        { "max_confidence=-1", "max_confidence" },
        { "max_confidence=lots", "max_confidence" },
        { "min_confidence=0.9&max_confidence=0.1", "greater than max_confidence" },
        { "from=yesterday", "from" },
        { "from=2026-13-01", "from" },
        { "from=2026-02-30", "from" },
        { "from=2026-03-01T25:00:00Z", "from" },
        { "from=03/01/2026", "from" },
        { "to=2026-03-01T10:00:00%2B25:00", "to" },
        { "to=1773000000", "to" },
        { "from=2026-03-02&to=2026-03-01", "earlier than to" },
        { "from=2026-03-01T00:00:00Z&to=2026-03-01", "earlier than to" },
        { "model=two%20words", "model" },
        { "model=%27%3B%20DROP%20TABLE%20predictions%3B--", "model" },
        { "model=", "model" },
        { "label=", "label" },
        { "label=%00", "label" },
        { "label=a%0Ab", "label" },
        { "fields=", "fields" },
        { "fields=bogus", "bogus" },
        { "fields=likely_class,tensor", "tensor" },
        { "cursor=AAAAAAAAAAAAAAAAAAAAAAAAAAAA", "cursor" },
        { "cursor=not-a-cursor", "cursor" },
    };

    [Theory]
    [MemberData(nameof(MalformedQueries))]
    public async Task MalformedFiltersAreBadRequests(string query, string detail)
    {
        using var response = await _client.GetAsync("/predictions?" + query);
        await ProblemAssert.AssertProblemAsync(response, HttpStatusCode.BadRequest, detail);
    }
}
