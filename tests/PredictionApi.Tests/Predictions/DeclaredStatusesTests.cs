using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace PredictionApi.Tests.Predictions;

/// <summary>
/// The OpenAPI document is honest: every status an endpoint is driven to answer here is one the
/// document declares for that operation.
/// </summary>
public sealed class DeclaredStatusesTests(ServiceFixture service) : IClassFixture<ServiceFixture>
{
    private readonly HttpClient _client = service.Factory.CreateClient(new() { AllowAutoRedirect = false });

    private static MultipartFormDataContent Form(params (string Field, byte[] Bytes)[] parts)
    {
        var form = new MultipartFormDataContent();
        foreach (var (field, bytes) in parts)
        {
            form.Add(new ByteArrayContent(bytes), field, "digit.png");
        }

        return form;
    }

    private static HttpRequestMessage Keyed(string path, string key, byte[] png) =>
        new(HttpMethod.Post, path) { Content = Form(("file", png)), Headers = { { "Idempotency-Key", key } } };

    [Fact]
    public async Task EveryStatusAnEndpointAnswersIsDeclaredInTheOpenApiDocument()
    {
        var document = await _client.GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        var stored = await _client.PostPredictionAsync(Mnist.Png(0));
        var id = stored.GetProperty("prediction_id").GetInt64();
        var key = Guid.NewGuid().ToString();
        var batchKey = Guid.NewGuid().ToString();
        var json = new StringContent("""{"true_label": "7"}""", Encoding.UTF8, "application/json");

        var cases = new (string Method, string Template, Func<Task<HttpResponseMessage>> Send)[]
        {
            ("post", "/prediction", () => _client.PostAsync("/prediction", Form(("file", Mnist.Png(1))))),
            ("post", "/prediction", () => _client.PostAsync("/prediction", Form(("image", Mnist.Png(1))))),
            ("post", "/prediction", () => _client.PostAsync("/prediction", Form(("file", new byte[11 * 1024 * 1024])))),
            ("post", "/prediction", () => _client.PostAsync("/prediction", new StringContent("{}", Encoding.UTF8, "application/json"))),
            ("post", "/prediction", () => _client.SendAsync(Keyed("/prediction", key, Mnist.Png(2)))),
            ("post", "/prediction", () => _client.SendAsync(Keyed("/prediction", key, Mnist.Png(3)))),
            ("post", "/predictions/batch", () => _client.PostAsync("/predictions/batch", Form(("file", Mnist.Png(1)), ("file", new byte[] { 1, 2, 3 })))),
            ("post", "/predictions/batch", () => _client.PostAsync("/predictions/batch", Form(("image", Mnist.Png(1))))),
            ("post", "/predictions/batch", () => _client.PostAsync("/predictions/batch", new StringContent("x"))),
            ("post", "/predictions/batch", () => _client.SendAsync(Keyed("/predictions/batch", batchKey, Mnist.Png(2)))),
            ("post", "/predictions/batch", () => _client.SendAsync(Keyed("/predictions/batch", batchKey, Mnist.Png(3)))),
            ("get", "/predictions", () => _client.GetAsync("/predictions")),
            ("get", "/predictions", () => _client.GetAsync("/predictions?limit=abc")),
            ("get", "/prediction/{id}", () => _client.GetAsync($"/prediction/{id}")),
            ("get", "/prediction/{id}", () => _client.GetAsync("/prediction/abc")),
            ("get", "/prediction/{id}", () => _client.GetAsync("/prediction/999999999")),
            ("get", "/prediction/{id}/image", () => _client.GetAsync($"/prediction/{id}/image")),
            ("get", "/prediction/{id}/image", () => _client.GetAsync("/prediction/abc/image")),
            ("get", "/prediction/{id}/image", () => _client.GetAsync("/prediction/999999999/image")),
            ("get", "/predictions/stats", () => _client.GetAsync("/predictions/stats")),
            ("get", "/predictions/stats", () => _client.GetAsync("/predictions/stats?from=yesterday")),
            ("get", "/models/compare", () => _client.GetAsync("/models/compare?baseline=mnist:1&candidate=mnist:2")),
            ("get", "/models/compare", () => _client.GetAsync("/models/compare?baseline=mnist&candidate=mnist")),
            ("patch", "/prediction/{id}", () => _client.PatchAsync($"/prediction/{id}", json)),
            ("patch", "/prediction/{id}", () => _client.PatchAsync($"/prediction/{id}", new StringContent("[]", Encoding.UTF8, "application/json"))),
            ("patch", "/prediction/{id}", () => _client.PatchAsync("/prediction/999999999", new StringContent("""{"note": "x"}""", Encoding.UTF8, "application/json"))),
            ("patch", "/prediction/{id}", () => _client.PatchAsync($"/prediction/{id}", new StringContent("x", Encoding.UTF8, "text/plain"))),
            ("delete", "/predictions", () => _client.DeleteAsync("/predictions?before=2000-01-01")),
            ("delete", "/predictions", () => _client.DeleteAsync("/predictions")),
            ("delete", "/prediction/{id}", () => _client.DeleteAsync($"/prediction/{id}")),
            ("delete", "/prediction/{id}", () => _client.DeleteAsync("/prediction/abc")),
            ("delete", "/prediction/{id}", () => _client.DeleteAsync($"/prediction/{id}")),
        };

        var seen = new HashSet<(string, string, int)>();
        foreach (var (method, template, send) in cases)
        {
            using var response = await send();
            var status = (int)response.StatusCode;
            seen.Add((method, template, status));
            var responses = document.GetProperty("paths").GetProperty(template).GetProperty(method).GetProperty("responses");
            Assert.True(responses.TryGetProperty(status.ToString(), out _),
                $"{method.ToUpperInvariant()} {template} answered {status}, which the OpenAPI document does not declare ({string.Join(", ", responses.EnumerateObject().Select(r => r.Name))})");
        }

        // The cases reach the statuses they were written for, so the check above is not vacuous.
        Assert.Contains(("post", "/prediction", 413), seen);
        Assert.Contains(("post", "/prediction", 422), seen);
        Assert.Contains(("post", "/predictions/batch", 422), seen);
        Assert.Contains(("patch", "/prediction/{id}", 415), seen);
        Assert.Contains(("delete", "/prediction/{id}", 404), seen);
        Assert.True(seen.Count >= 20, $"only {seen.Count} distinct statuses were reached");
    }
}
