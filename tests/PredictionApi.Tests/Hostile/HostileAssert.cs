using System.Net;
using System.Text.Json;

namespace PredictionApi.Tests.Hostile;

/// <summary>What every answer to a hostile request must be: a 200, or a 4xx problem that helps and leaks nothing.</summary>
public static class HostileAssert
{
    private static readonly string[] Leaks = ["   at ", "Exception", "SELECT ", "INSERT ", "Npgsql", "SkiaSharp", "/work/", "/tmp/", ".cs:line"];

    /// <summary>
    /// Asserts the answer is 200 JSON or a 4xx application/problem+json with title, matching status and a
    /// detail, and returns the status. A 5xx fails the test with the body, so the case is easy to replay.
    /// </summary>
    public static async Task<HttpStatusCode> OkOrClientProblemAsync(HttpResponseMessage response, string what)
    {
        var text = await response.Content.ReadAsStringAsync();
        var status = (int)response.StatusCode;
        Assert.True(status == 200 || status is >= 400 and < 500, $"{what}: expected 200 or 4xx, got {status}: {text}");
        if (status == 200)
        {
            Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
            return response.StatusCode;
        }

        await AssertProblemBodyAsync(text, response, status, what);
        return response.StatusCode;
    }

    /// <summary>Asserts a problem answer with the given status class (4 or 5) whose detail helps and leaks nothing.</summary>
    public static async Task<JsonElement> ProblemAsync(HttpResponseMessage response, int statusClass, string what)
    {
        var text = await response.Content.ReadAsStringAsync();
        var status = (int)response.StatusCode;
        Assert.True(status / 100 == statusClass, $"{what}: expected {statusClass}xx, got {status}: {text}");
        return await AssertProblemBodyAsync(text, response, status, what);
    }

    private static Task<JsonElement> AssertProblemBodyAsync(string text, HttpResponseMessage response, int status, string what)
    {
        Assert.True(response.Content.Headers.ContentType?.MediaType == "application/problem+json", $"{what}: {status} without a problem body: '{text}'");
        var problem = JsonSerializer.Deserialize<JsonElement>(text);
        Assert.Equal(status, problem.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrWhiteSpace(problem.GetProperty("title").GetString()), what);
        Assert.True(problem.GetProperty("detail").GetString() is { Length: > 20 }, $"{what}: the detail should say what is wrong: {text}");
        foreach (var leak in Leaks)
        {
            Assert.False(text.Contains(leak, StringComparison.Ordinal), $"{what}: the answer leaks '{leak}': {text}");
        }

        return Task.FromResult(problem);
    }
}
