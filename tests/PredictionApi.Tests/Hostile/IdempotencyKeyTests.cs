using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace PredictionApi.Tests.Hostile;

/// <summary>
/// Retries with an Idempotency-Key that write the same request another way: the parameters in another order, their
/// names in another case, a value percent-encoded, the path with a trailing '/'. Each is the same request, so it
/// replays the stored answer and stores nothing; only other files or other parameter values are a 422.
/// </summary>
public sealed class IdempotencyKeyTests(HostileService service) : IClassFixture<HostileService>
{
    private async Task<HttpResponseMessage> PostAsync(string pathAndQuery, string key, bool batch = false)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, pathAndQuery) { Content = TestImages.Form(Mnist.Png(0), "digit.png", "image/png") };
        request.Headers.Add("Idempotency-Key", key);
        return await service.Client.SendAsync(request);
    }

    public static TheoryData<string, string> SameRequestWrittenAnotherWay() => new()
    {
        { "/prediction?max_labels=3&min_confidence=0.1", "/prediction?min_confidence=0.1&max_labels=3" },
        { "/prediction?model=mnist&max_labels=2", "/prediction?MODEL=mnist&Max_Labels=2" },
        { "/prediction?min_confidence=0.1", "/prediction?min_confidence=0%2E1" },
        { "/prediction?max_labels=2", "/prediction/?max_labels=2" },
        { "/predictions/batch?max_labels=2&model=mnist", "/predictions/batch/?model=mnist&max_labels=2" },
    };

    [Theory]
    [MemberData(nameof(SameRequestWrittenAnotherWay))]
    public async Task ARetryWritingTheSameParametersAnotherWayReplaysTheAnswer(string first, string retry)
    {
        var key = Guid.NewGuid().ToString();
        using var original = await PostAsync(first, key);
        var originalText = await original.Content.ReadAsStringAsync();
        Assert.True(original.StatusCode == HttpStatusCode.OK, $"{first}: {(int)original.StatusCode} {originalText}");
        var before = await service.CountRowsAsync();

        using var replayed = await PostAsync(retry, key);
        var replayedText = await replayed.Content.ReadAsStringAsync();

        Assert.True(replayed.StatusCode == HttpStatusCode.OK, $"{retry} after {first}: {(int)replayed.StatusCode} {replayedText}");
        Assert.Equal("true", Assert.Single(replayed.Headers.GetValues("Idempotent-Replayed")));
        Assert.Equal(originalText, replayedText);
        Assert.Equal(before, await service.CountRowsAsync());
    }

    [Theory]
    [InlineData("/prediction?max_labels=3", "/prediction?max_labels=2")]
    [InlineData("/prediction?max_labels=3", "/prediction?max_labels=3&model=fashion")]
    [InlineData("/prediction?include=tensor", "/prediction")]
    [InlineData("/prediction", "/predictions/batch")]
    public async Task TheSameKeyWithOtherParameterValuesIsStillA422(string first, string other)
    {
        var key = Guid.NewGuid().ToString();
        using (var original = await PostAsync(first, key))
        {
            Assert.Equal(HttpStatusCode.OK, original.StatusCode);
        }

        var before = await service.CountRowsAsync();
        using var response = await PostAsync(other, key);

        var problem = await HostileAssert.ProblemAsync(response, 4, $"{other} after {first}");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Equal("Idempotency key reused", problem.GetProperty("title").GetString());
        Assert.Equal(before, await service.CountRowsAsync());
    }

    [Fact]
    public async Task AReplayedAnswerStillNamesTheStoredPrediction()
    {
        var key = Guid.NewGuid().ToString();
        using var original = await PostAsync("/prediction?max_labels=1&min_confidence=0.5", key);
        var id = (await original.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("prediction_id").GetInt64();

        using var replayed = await PostAsync("/prediction?min_confidence=0.5&max_labels=1", key);

        Assert.Equal(HttpStatusCode.OK, replayed.StatusCode);
        Assert.Equal($"/prediction/{id}", replayed.Headers.Location?.ToString());
        var stored = await service.Client.GetFromJsonAsync<JsonElement>($"/prediction/{id}");
        Assert.Equal(7, stored.GetProperty("likely_class").GetInt32());
    }
}
