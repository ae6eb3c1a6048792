using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Npgsql;

namespace PredictionApi.Tests.Predictions;

/// <summary>GET /predictions: newest first, keyset cursor pagination, filters, validation.</summary>
public sealed class ListPredictionsTests : IAsyncLifetime
{
    private string _database = null!;
    private PredictionApiFactory _factory = null!;
    private HttpClient _client = null!;
    private readonly List<(long Id, int LikelyClass)> _posted = [];

    public async Task InitializeAsync()
    {
        _database = await TestPostgres.CreateDatabaseAsync("list");
        _factory = new PredictionApiFactory(_database);
        _client = _factory.CreateClient();
        for (var i = 0; i < 12; i++)
        {
            var body = await _client.PostPredictionAsync(Mnist.Png(i), $"{i}.png");
            _posted.Add((body.GetProperty("prediction_id").GetInt64(), body.GetProperty("likely_class").GetInt32()));
        }
    }

    public async Task DisposeAsync()
    {
        await _factory.DisposeAsync();
        await TestPostgres.DropDatabaseAsync(_database);
    }

    [Fact]
    public async Task PagesWalkEveryPredictionNewestFirstWithoutGapsOrRepeats()
    {
        var pages = await _client.WalkPredictionsAsync("", 5);
        var seen = pages.SelectMany(p => p).ToList();

        Assert.Equal(3, pages.Count);
        Assert.All(pages, p => Assert.InRange(p.Count, 1, 5));
        Assert.Equal(_posted.Select(p => p.Id).Reverse(), seen.Select(s => s.GetProperty("prediction_id").GetInt64()));
        var times = seen.Select(s => s.GetProperty("created_at").GetDateTime()).ToList();
        Assert.Equal(times.OrderByDescending(t => t), times);
        // Listings carry no image payloads.
        Assert.All(seen, s => Assert.False(s.TryGetProperty("image", out _)));
        Assert.All(seen, s => Assert.Equal(10, s.GetProperty("prediction").GetArrayLength()));
    }

    [Fact]
    public async Task TheDefaultPageIsFiftyAndTheLastPageHasNoCursor()
    {
        var page = await _client.GetFromJsonAsync<JsonElement>("/predictions");
        Assert.Equal(12, page.GetProperty("items").GetArrayLength());
        Assert.Equal(JsonValueKind.Null, page.GetProperty("next_cursor").ValueKind);

        // 60 more rows straight into the database, then the default page holds exactly 50.
        await using (var connection = new NpgsqlConnection(_database))
        {
            await connection.ExecuteAsync("""
                WITH i AS (
                    INSERT INTO inputs (filename, content_type, data, sha256, byte_size, width, height)
                    SELECT 'bulk.png', 'image/png', 'AA==', sha256(g::text::bytea), 1, 1, 1 FROM generate_series(1, 60) g RETURNING id)
                INSERT INTO predictions (input_id, model_name, model_version, probabilities, likely_class, confidence)
                SELECT id, 'other', '1', '[1]', 0, 1 FROM i
                """);
        }

        page = await _client.GetFromJsonAsync<JsonElement>("/predictions");
        Assert.Equal(50, page.GetProperty("items").GetArrayLength());
        Assert.NotEqual(JsonValueKind.Null, page.GetProperty("next_cursor").ValueKind);
        var mnistOnly = await _client.GetFromJsonAsync<JsonElement>("/predictions?model=mnist&limit=500");
        Assert.Equal(12, mnistOnly.GetProperty("items").GetArrayLength());
        Assert.All(mnistOnly.GetProperty("items").EnumerateArray(), i => Assert.Equal("mnist", i.GetProperty("model").GetProperty("name").GetString()));
    }

    [Fact]
    public async Task FilteringByLikelyClassReturnsOnlyThatClassAcrossPages()
    {
        var target = _posted.GroupBy(p => p.LikelyClass).OrderByDescending(g => g.Count()).First();

        var items = (await _client.WalkPredictionsAsync($"likely_class={target.Key}&model=mnist", 1)).SelectMany(p => p).ToList();

        Assert.All(items, item => Assert.Equal(target.Key, item.GetProperty("likely_class").GetInt32()));
        Assert.Equal(target.Select(t => t.Id).Reverse(), items.Select(item => item.GetProperty("prediction_id").GetInt64()));
    }

    [Theory]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=501", "limit")]
    [InlineData("limit=ten", "limit")]
    [InlineData("limit=-5", "limit")]
    [InlineData("likely_class=seven", "likely_class")]
    [InlineData("likely_class=-1", "likely_class")]
    [InlineData("model=", "model")]
    [InlineData("cursor=nonsense", "cursor")]
    [InlineData("cursor=AAAAAAAAAAAAAAAAAAAAAAAAAAAA", "cursor")]
    [InlineData("cursor=%27%3B%20DROP%20TABLE%20predictions%3B--", "cursor")]
    public async Task MalformedQueryParametersAreBadRequests(string query, string names)
    {
        using var response = await _client.GetAsync("/predictions?" + query);
        await ProblemAssert.AssertProblemAsync(response, HttpStatusCode.BadRequest, names);
    }

    [Fact]
    public async Task ACursorReplayedWithOtherFiltersIsRefused()
    {
        var page = await _client.GetFromJsonAsync<JsonElement>("/predictions?limit=2");
        var cursor = page.GetProperty("next_cursor").GetString();

        using var response = await _client.GetAsync($"/predictions?limit=2&likely_class=3&cursor={cursor}");
        await ProblemAssert.AssertProblemAsync(response, HttpStatusCode.BadRequest, "other filters");
        // The same cursor with its own filters still works.
        using var same = await _client.GetAsync($"/predictions?limit=2&cursor={cursor}");
        Assert.Equal(HttpStatusCode.OK, same.StatusCode);
    }
}
