using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace PredictionApi.Tests.OpenInference;

/// <summary>
/// The protocol's health and metadata APIs, request for request as its REST text has them: server live, ready and
/// metadata; model metadata and model ready, with and without a version in the path; errors as {"error": "..."}.
/// </summary>
public sealed class ServerAndModelTests(OpenInferenceService service) : IClassFixture<OpenInferenceService>
{
    private readonly HttpClient _client = service.Factory.CreateClient();

    [Fact]
    public async Task ServerMetadataNamesTheServerItsVersionAndNoExtensions()
    {
        using var response = await _client.GetAsync("/v2");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var metadata = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(["name", "version", "extensions"], metadata.EnumerateObject().Select(p => p.Name));
        Assert.Equal("PredictionApi", metadata.GetProperty("name").GetString());
        Assert.False(string.IsNullOrWhiteSpace(metadata.GetProperty("version").GetString()));
        Assert.Equal(JsonValueKind.Array, metadata.GetProperty("extensions").ValueKind);
        Assert.Equal(0, metadata.GetProperty("extensions").GetArrayLength());
    }

    [Fact]
    public async Task ServerLiveAndReadyAnswer200WithTheirFlag()
    {
        using var live = await _client.GetAsync("/v2/health/live");
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.True((await live.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("live").GetBoolean());

        // A model that failed to load ("broken") does not make the server unready; the default model serves.
        using var ready = await _client.GetAsync("/v2/health/ready");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.True((await ready.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("ready").GetBoolean());
    }

    [Fact]
    public async Task ModelMetadataDescribesTheFp32InputWithADynamicBatchAndTheOutputs()
    {
        var metadata = await OpenInferenceService.GetJsonAsync(_client, "/v2/models/mnist");
        Assert.Equal("mnist", metadata.GetProperty("name").GetString());
        Assert.Equal(["2.0.0"], metadata.GetProperty("versions").EnumerateArray().Select(v => v.GetString()));
        Assert.Equal("onnx_onnxv1", metadata.GetProperty("platform").GetString());
        Assert.Equal([("input", "FP32", "-1,1,28,28")], Tensors(metadata, "inputs"));
        Assert.Equal([("probabilities", "FP32", "-1,10"), ("label", "BYTES", "-1")], Tensors(metadata, "outputs"));

        // The same document for the version named in the path.
        var versioned = await OpenInferenceService.GetJsonAsync(_client, "/v2/models/mnist/versions/2.0.0");
        Assert.Equal(metadata.GetRawText(), versioned.GetRawText());
    }

    [Fact]
    public async Task AVersionedModelListsItsLoadedVersionsAndDescribesAVersionOnlyWhileLoaded()
    {
        var grey = await OpenInferenceService.GetJsonAsync(_client, "/v2/models/grey/versions/10");
        Assert.Equal(["10"], grey.GetProperty("versions").EnumerateArray().Select(v => v.GetString()));
        Assert.Equal([("pixels", "FP32", "-1,1,4,4")], Tensors(grey, "inputs"));
        Assert.Equal([("probabilities", "FP32", "-1,3"), ("label", "BYTES", "-1")], Tensors(grey, "outputs"));

        using var notLoaded = await _client.GetAsync("/v2/models/grey/versions/2");
        await V2Assert.ErrorAsync(notLoaded, HttpStatusCode.NotFound, "Version '2' of the model 'grey' is not loaded");
    }

    [Theory]
    [InlineData("/v2/models/nope", HttpStatusCode.NotFound, "There is no model 'nope'")]
    [InlineData("/v2/models/nope/ready", HttpStatusCode.NotFound, "There is no model 'nope'")]
    [InlineData("/v2/models/nope/versions/1", HttpStatusCode.NotFound, "There is no model 'nope'")]
    [InlineData("/v2/models/grey/versions/99/ready", HttpStatusCode.NotFound, "has no version '99'")]
    [InlineData("/v2/models/broken", HttpStatusCode.ServiceUnavailable, "The model 'broken' is failed")]
    [InlineData("/v2/no-such-route", HttpStatusCode.NotFound, "No resource at '/v2/no-such-route'")]
    public async Task MetadataOfWhatIsNotServedIsAnErrorObject(string path, HttpStatusCode status, string contains)
    {
        using var response = await _client.GetAsync(path);
        await V2Assert.ErrorAsync(response, status, contains);
    }

    [Theory]
    [InlineData("/v2/models/mnist/ready", HttpStatusCode.OK, "mnist", true)]
    [InlineData("/v2/models/mnist/versions/2.0.0/ready", HttpStatusCode.OK, "mnist", true)]
    [InlineData("/v2/models/grey/ready", HttpStatusCode.OK, "grey", true)]
    [InlineData("/v2/models/grey/versions/10/ready", HttpStatusCode.OK, "grey", true)]
    [InlineData("/v2/models/grey/versions/2/ready", HttpStatusCode.ServiceUnavailable, "grey", false)]
    [InlineData("/v2/models/broken/ready", HttpStatusCode.ServiceUnavailable, "broken", false)]
    public async Task ModelReadyAnswersNameAndReady(string path, HttpStatusCode status, string name, bool ready)
    {
        using var response = await _client.GetAsync(path);
        Assert.Equal(status, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(["name", "ready"], body.EnumerateObject().Select(p => p.Name));
        Assert.Equal((name, ready), (body.GetProperty("name").GetString(), body.GetProperty("ready").GetBoolean()));
    }

    [Fact]
    public async Task EveryRouteIsInTheOpenApiDocumentUnderOneTagWithASummary()
    {
        var document = await OpenInferenceService.GetJsonAsync(_client, "/openapi/v1.json");
        var paths = document.GetProperty("paths");
        var expected = new (string Path, string Method)[]
        {
            ("/v2", "get"), ("/v2/health/live", "get"), ("/v2/health/ready", "get"),
            ("/v2/models/{model}", "get"), ("/v2/models/{model}/versions/{version}", "get"),
            ("/v2/models/{model}/ready", "get"), ("/v2/models/{model}/versions/{version}/ready", "get"),
            ("/v2/models/{model}/infer", "post"), ("/v2/models/{model}/versions/{version}/infer", "post"),
        };
        foreach (var (path, method) in expected)
        {
            Assert.True(paths.TryGetProperty(path, out var item), $"{path} is not in the document");
            var operation = item.GetProperty(method);
            Assert.Equal(["Open Inference Protocol (V2)"], operation.GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
            Assert.False(string.IsNullOrWhiteSpace(operation.GetProperty("summary").GetString()), $"{method} {path} has no summary");
        }

        // Readiness answers 503 with its own body, not an error object.
        foreach (var ready in new[] { "/v2/health/ready", "/v2/models/{model}/ready", "/v2/models/{model}/versions/{version}/ready" })
        {
            Assert.True(paths.GetProperty(ready).GetProperty("get").GetProperty("responses").TryGetProperty("503", out _), $"{ready} does not declare its 503");
        }

        var infer = paths.GetProperty("/v2/models/{model}/infer").GetProperty("post");
        Assert.True(infer.GetProperty("requestBody").GetProperty("content").TryGetProperty("application/json", out _));
        Assert.True(infer.GetProperty("responses").GetProperty("400").GetProperty("content").TryGetProperty("application/json", out _));
    }

    private static List<(string Name, string Datatype, string Shape)> Tensors(JsonElement metadata, string property) =>
        metadata.GetProperty(property).EnumerateArray()
            .Select(t => (t.GetProperty("name").GetString()!, t.GetProperty("datatype").GetString()!, string.Join(",", t.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()))))
            .ToList();
}
