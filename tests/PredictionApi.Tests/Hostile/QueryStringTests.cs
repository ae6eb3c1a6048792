using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using PredictionApi.Predictions;

namespace PredictionApi.Tests.Hostile;

/// <summary>
/// Ids, limits, filters and cursors that overflow, are not numbers, look like SQL or were forged:
/// always a 400/404 problem or an honest (often empty) 200, never a 500, and no row changes.
/// </summary>
public sealed class QueryStringTests(HostileService service) : IClassFixture<HostileService>
{
    public static TheoryData<string, string, int> Requests() => new()
    {
        { "GET", "/prediction/9223372036854775808", 400 },
        { "GET", "/prediction/-9223372036854775808", 400 },
        { "GET", "/prediction/" + new string('9', 2000), 400 },
        { "GET", "/prediction/0x10", 400 },
        { "GET", "/prediction/%2B5", 400 },
        { "GET", "/prediction/5%20", 400 },
        { "GET", "/prediction/%EF%BC%95", 400 }, // a full-width digit five
        { "GET", "/prediction/9223372036854775807", 404 },
        { "GET", "/prediction/9223372036854775807/image", 404 },
        { "GET", "/prediction/1e3/image", 400 },
        { "DELETE", "/prediction/-0", 400 },
        { "DELETE", "/prediction/9223372036854775807", 404 },
        { "GET", "/predictions?limit=2147483648", 400 },
        { "GET", "/predictions?limit=-2147483648", 400 },
        { "GET", "/predictions?limit=%00", 400 },
        { "GET", "/predictions?limit=1&limit=2", 400 },
        { "GET", "/predictions?likely_class=4294967296", 400 },
        { "GET", "/predictions?likely_class=2147483647", 200 },
        { "GET", "/predictions?max_labels=-1", 400 },
        { "GET", "/predictions?max_labels=11", 400 },
        { "GET", "/predictions?min_confidence=NaN", 400 },
        { "GET", "/predictions?min_confidence=-Infinity", 400 },
        { "GET", "/predictions?max_confidence=1e309", 400 },
        { "GET", "/predictions?min_confidence=1e-320", 200 },
        { "GET", "/predictions?from=0001-01-01&to=9999-12-31T23:59:59.9999999Z", 200 },
        { "GET", "/predictions?from=0001-01-01T00:00:00%2B14:00", 400 },
        { "GET", "/predictions?to=9999-12-31T23:59:59-14:00", 400 },
        { "GET", "/predictions?from=2024-02-30", 400 },
        { "GET", "/predictions?model=mnist'%20OR%20'1'='1", 400 },
        { "GET", "/predictions?model=mnist%00", 400 },
        { "GET", "/predictions?model=" + new string('m', 201), 400 },
        { "GET", "/predictions?label=7'%20OR%20'1'='1", 200 },
        { "GET", "/predictions?label=%27%3B%20DROP%20TABLE%20predictions%3B%20--", 200 },
        { "GET", "/predictions?label=%00", 400 },
        { "GET", "/predictions?fields=prediction_id,pg_sleep(10)", 400 },
        { "GET", "/predictions?fields=*,*,image,image", 200 },
        { "GET", "/predictions?cursor=", 400 },
        { "GET", "/predictions?cursor=%00", 400 },
        { "GET", "/predictions?cursor=" + new string('A', 28), 400 },
        { "GET", "/predictions?cursor=" + new string('/', 28), 400 },
        { "GET", "/predictions?cursor=" + new string('A', 6000), 400 },
        { "GET", "/predictions/stats?to=99999-01-01", 400 },
        { "GET", "/predictions/stats?from=9999-99-99", 400 },
        { "GET", "/predictions/stats?model=%27", 400 },
        { "DELETE", "/predictions?before=0001-01-01T00:00:00%2B14:00", 400 },
        { "DELETE", "/predictions?before=9999-12-31", 400 },
        { "DELETE", "/predictions?before=2000-01-01&max_confidence=NaN", 400 },
        { "DELETE", "/predictions?before=" + new string('2', 3000), 400 },
        { "POST", "/prediction?include=tensor,tensor2", 400 },
        { "POST", "/prediction?max_labels=99999999999", 400 },
        { "POST", "/prediction?model=", 400 },
        { "POST", "/prediction?model=mnist&model=fashion", 400 },
        { "POST", "/prediction?model=mnist&version=", 400 },
        { "POST", "/prediction?model=nosuch", 404 },
        { "POST", "/predictions/batch?model=", 400 },
        { "GET", "/models/..%2F..%2Fetc%2Fpasswd", 404 },
        { "GET", "/models/" + new string('a', 3000), 404 },
    };

    [Theory]
    [MemberData(nameof(Requests))]
    public async Task HostileIdsAndQueryValuesAreAnsweredWithoutAServerError(string method, string path, int status)
    {
        var before = await service.CountRowsAsync();
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (method == "POST")
        {
            request.Content = TestImages.Form(Mnist.Png(0));
        }

        using var response = await service.Client.SendAsync(request);
        var what = $"{method} {path[..Math.Min(80, path.Length)]}";
        await HostileAssert.OkOrClientProblemAsync(response, what);
        Assert.True(status == (int)response.StatusCode, $"{what}: expected {status}, got {(int)response.StatusCode}");
        Assert.Equal(before, await service.CountRowsAsync());
    }

    /// <summary>
    /// Requests refused while they are parsed, sent as raw bytes. Kestrel writes the 400s and the 505 itself, with an empty
    /// body, so they cannot be problem details; what matters is that they are 4xx and that the service keeps serving. The
    /// long request line and the large headers are within Kestrel's raised limits and refused by the service
    /// (RequestLimitTests checks their problem details).
    /// </summary>
    [Theory]
    [InlineData("a NUL in the path", "GET /prediction/%00 HTTP/1.1\r\nHost: x\r\n", 400)]
    [InlineData("a 20 KB request line", "GET /predictions?model={long} HTTP/1.1\r\nHost: x\r\n", 414)]
    [InlineData("40 KB of headers", "GET /predictions HTTP/1.1\r\nHost: x\r\nX-Big: {long}{long}\r\n", 431)]
    [InlineData("a NUL in a header", "GET /predictions HTTP/1.1\r\nHost: x\r\nX-Bad: a\u0000b\r\n", 400)]
    [InlineData("no Host header", "GET /predictions HTTP/1.1\r\n", 400)]
    [InlineData("an unknown HTTP version", "GET /predictions HTTP/7.0\r\nHost: x\r\n", 505)]
    public async Task RequestsKestrelRefusesWhileParsingAreClientErrorsAndTheServiceKeepsServing(string what, string head, int status)
    {
        var request = head.Replace("{long}", new string('a', 20_000)) + "Connection: close\r\n\r\n";
        using var response = await RawHttp.SendAsync(service.BaseAddress, System.Text.Encoding.Latin1.GetBytes(request));
        Assert.True(status == (int)response.StatusCode, $"{what}: {(int)response.StatusCode}");
        await service.AssertStillServingAsync(what);
    }

    [Theory]
    [InlineData("POST", "/prediction?modle=fashion", "'modle' is not a parameter of POST /prediction")]
    [InlineData("POST", "/predictions/batch?model=mnist&verison=2", "'verison' is not a parameter of POST /predictions/batch")]
    [InlineData("DELETE", "/predictions?before=2999-01-01T00:00:00Z&max_confidnce=0.5", "'max_confidnce' is not a parameter of DELETE /predictions")]
    public async Task AParameterAWriteDoesNotReadIsRefusedAndNothingIsDone(string method, string target, string detail)
    {
        await PostAsync();
        var before = await service.CountRowsAsync();
        using var request = new HttpRequestMessage(new HttpMethod(method), target);
        if (method == "POST")
        {
            request.Content = TestImages.Form(Mnist.Png(2));
        }

        // The retention delete's time is in the future, so it would be refused for that; move it to now.
        request.RequestUri = new Uri(target.Replace("2999-01-01T00:00:00Z", DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ")), UriKind.Relative);
        using var response = await service.Client.SendAsync(request);

        var problem = await ProblemAssert.AssertProblemAsync(response, HttpStatusCode.BadRequest, detail);
        Assert.Equal("Unknown parameter", problem.GetProperty("title").GetString());
        Assert.Equal(before, await service.CountRowsAsync());
        // Names compare without case, as binding does: MODEL= is model=.
        using var upper = await service.Client.PostAsync("/prediction?MODEL=mnist&Max_Labels=2", TestImages.Form(Mnist.Png(2)));
        Assert.Equal(HttpStatusCode.OK, upper.StatusCode);
    }

    [Fact]
    public async Task SqlLookingLabelsAreValuesNotSql()
    {
        var id = await PostAsync();
        using (var patch = await service.Client.PatchAsync($"/prediction/{id}", JsonContent.Create(new { true_label = "7" })))
        {
            Assert.Equal(HttpStatusCode.OK, patch.StatusCode);
        }

        foreach (var label in new[] { "7' OR '1'='1", "7'--", "7\" OR 1=1 --", "'; DELETE FROM predictions; --" })
        {
            var page = await service.Client.GetFromJsonAsync<JsonElement>($"/predictions?label={Uri.EscapeDataString(label)}");
            Assert.Equal(0, page.GetProperty("items").GetArrayLength());
        }

        var labelled = await service.Client.GetFromJsonAsync<JsonElement>("/predictions?label=7");
        Assert.Contains(labelled.GetProperty("items").EnumerateArray(), i => i.GetProperty("prediction_id").GetInt64() == id);
    }

    [Fact]
    public async Task ForgedCursorsInTheRightFormatOnlyMoveThroughRealRows()
    {
        await PostAsync();
        var none = new PredictionFilter().Fingerprint;
        var total = (await service.Client.GetFromJsonAsync<JsonElement>("/predictions?limit=500")).GetProperty("items").GetArrayLength();
        foreach (var (cursor, expected) in new[]
        {
            (new PredictionCursor(DateTime.MaxValue, long.MaxValue, none), total), // after the end of time: every row
            (new PredictionCursor(new DateTime(1, DateTimeKind.Utc), 1, none), 0), // before the first row: none
            (new PredictionCursor(DateTime.MinValue, 1, none), 0),
        })
        {
            using var response = await service.Client.GetAsync($"/predictions?limit=500&cursor={cursor.Encode()}");
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{cursor}: {(int)response.StatusCode} {text}");
            Assert.Equal(expected, JsonSerializer.Deserialize<JsonElement>(text).GetProperty("items").GetArrayLength());
        }
    }

    [Fact]
    public async Task TamperedCursorsAreRefusedOrHarmless()
    {
        for (var i = 0; i < 3; i++)
        {
            await PostAsync();
        }

        var cursor = (await service.Client.GetFromJsonAsync<JsonElement>("/predictions?limit=1")).GetProperty("next_cursor").GetString()!;
        var random = new Random(20261123);
        var variants = new List<string> { cursor[..^1], cursor + "A", cursor.ToUpperInvariant(), Convert.ToBase64String(Encoding.UTF8.GetBytes(cursor)), cursor.Replace('-', '+').Replace('_', '/') };
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        for (var k = 0; k < 40; k++)
        {
            var chars = cursor.ToCharArray();
            chars[random.Next(chars.Length)] = alphabet[random.Next(alphabet.Length)];
            variants.Add(new string(chars));
        }

        foreach (var variant in variants)
        {
            using var response = await service.Client.GetAsync($"/predictions?cursor={Uri.EscapeDataString(variant)}");
            await HostileAssert.OkOrClientProblemAsync(response, $"cursor {variant}");
        }
    }

    private async Task<long> PostAsync()
    {
        using var response = await service.PostFileAsync(Mnist.Png(0));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("prediction_id").GetInt64();
    }
}
