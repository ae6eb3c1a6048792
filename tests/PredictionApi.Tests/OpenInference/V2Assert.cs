using System.Net;
using System.Text.Json;

namespace PredictionApi.Tests.OpenInference;

public static class V2Assert
{
    /// <summary>
    /// Asserts the protocol's error answer: the status, application/json, a body that is exactly {"error": "..."} with a
    /// message mentioning <paramref name="contains"/>, and nothing of the internals.
    /// </summary>
    public static async Task ErrorAsync(HttpResponseMessage response, HttpStatusCode status, string contains)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var body = JsonSerializer.Deserialize<JsonElement>(text);
        Assert.Equal(["error"], body.EnumerateObject().Select(p => p.Name));
        var error = body.GetProperty("error").GetString();
        Assert.Contains(contains, error, StringComparison.Ordinal);
        foreach (var leak in new[] { "   at ", "Exception", "System.", "PredictionApi.", "SELECT ", "/work/", "/tmp/" })
        {
            Assert.DoesNotContain(leak, text, StringComparison.Ordinal);
        }
    }
}
