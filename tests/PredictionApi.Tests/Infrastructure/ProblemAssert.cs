using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace PredictionApi.Tests;

public static class ProblemAssert
{
    /// <summary>
    /// Asserts an RFC 7807 answer: the status, application/problem+json, a title, a matching status
    /// field and a detail that mentions <paramref name="detailContains"/> and leaks no internals.
    /// </summary>
    public static async Task<JsonElement> AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string? detailContains = null)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonSerializer.Deserialize<JsonElement>(text);
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrWhiteSpace(problem.GetProperty("title").GetString()));
        var detail = problem.GetProperty("detail").GetString();
        Assert.False(string.IsNullOrWhiteSpace(detail));
        if (detailContains is not null)
        {
            Assert.Contains(detailContains, detail, StringComparison.OrdinalIgnoreCase);
        }

        foreach (var leak in new[] { "   at ", "Exception", "SELECT ", "INSERT ", "/work/", "/tmp/", ".cs:line" })
        {
            Assert.DoesNotContain(leak, text, StringComparison.Ordinal);
        }

        return problem;
    }
}
