using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace PredictionApi.Tests.Predictions;

/// <summary>Health, model metadata, the OpenAPI document and its offline UI.</summary>
public sealed partial class ServiceEndpointsTests(ServiceFixture service) : IClassFixture<ServiceFixture>
{
    private readonly HttpClient _client = service.Factory.CreateClient();

    [Fact]
    public async Task LiveAndReadyAreHealthyWhenTheModelIsLoadedAndTheDatabaseAnswers()
    {
        using var live = await _client.GetAsync("/health/live");
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        var ready = await _client.GetFromJsonAsync<JsonElement>("/health/ready");
        Assert.Equal("Healthy", ready.GetProperty("status").GetString());
        Assert.Equal("Healthy", ready.GetProperty("checks").GetProperty("model").GetProperty("status").GetString());
        Assert.Equal("Healthy", ready.GetProperty("checks").GetProperty("database").GetProperty("status").GetString());
    }

    [Fact]
    public async Task ModelMetadataComesFromTheManifestAndTheOnnxFile()
    {
        var folder = Path.Combine(RepoPaths.Models, "mnist");
        using var manifest = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(folder, "model.json")));
        var m = manifest.RootElement;
        var sha = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(await File.ReadAllBytesAsync(Path.Combine(folder, "model.onnx"))));

        var model = await _client.GetFromJsonAsync<JsonElement>("/models/mnist");

        Assert.Equal(m.GetProperty("name").GetString(), model.GetProperty("name").GetString());
        Assert.Equal(m.GetProperty("version").GetString(), model.GetProperty("version").GetString());
        Assert.Equal(sha, model.GetProperty("sha256").GetString());
        var input = model.GetProperty("input");
        Assert.Equal("input", input.GetProperty("name").GetString());
        Assert.Equal("NCHW", input.GetProperty("layout").GetString());
        Assert.Equal([-1, 1, 28, 28], input.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()));
        Assert.Equal("mnist", input.GetProperty("profile").GetString());
        Assert.Equal("logits", model.GetProperty("output").GetProperty("name").GetString());
        Assert.Equal(10, model.GetProperty("output").GetProperty("classes").GetInt32());
        Assert.Equal(m.GetProperty("labels").EnumerateArray().Select(l => l.GetString()), model.GetProperty("labels").EnumerateArray().Select(l => l.GetString()));

        var all = await _client.GetFromJsonAsync<JsonElement>("/models");
        Assert.Equal("mnist", all[0].GetProperty("name").GetString());
    }

    [Fact]
    public async Task AnUnknownModelIs404()
    {
        using var response = await _client.GetAsync("/models/resnet");
        await ProblemAssert.AssertProblemAsync(response, HttpStatusCode.NotFound, "resnet");
    }

    [Fact]
    public async Task TheOpenApiDocumentDescribesEveryEndpoint()
    {
        var document = await _client.GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        var paths = document.GetProperty("paths");
        foreach (var path in new[] { "/prediction", "/prediction/{id}", "/prediction/{id}/image", "/predictions", "/models/{name}" })
        {
            Assert.True(paths.TryGetProperty(path, out _), $"{path} is missing from the OpenAPI document");
        }

        var upload = paths.GetProperty("/prediction").GetProperty("post").GetProperty("requestBody").GetProperty("content");
        Assert.True(upload.TryGetProperty("multipart/form-data", out _));
        // Response bodies use the wire names.
        var result = document.GetProperty("components").GetProperty("schemas").GetProperty("PredictionResult").GetProperty("properties");
        foreach (var name in new[] { "filename", "contenttype", "prediction", "likely_class", "input_id", "prediction_id" })
        {
            Assert.True(result.TryGetProperty(name, out _), $"PredictionResult lacks {name}");
        }
    }

    [Fact]
    public async Task TheApiReferenceUiIsServedByTheServiceWithoutACdn()
    {
        var html = await _client.GetStringAsync("/scalar");
        var scripts = ScriptSources().Matches(html).Select(m => m.Groups[1].Value).ToList();
        Assert.NotEmpty(scripts);
        var largest = 0;
        foreach (var src in scripts)
        {
            Assert.False(Uri.TryCreate(src, UriKind.Absolute, out var absolute) && absolute.Scheme.StartsWith("http", StringComparison.Ordinal), $"{src} is loaded from another host");
            using var script = await _client.GetAsync(new Uri(new Uri(_client.BaseAddress!, "/scalar/"), src));
            Assert.Equal(HttpStatusCode.OK, script.StatusCode);
            largest = Math.Max(largest, (await script.Content.ReadAsByteArrayAsync()).Length);
        }

        // The UI bundle itself (megabytes), not a loader that would fetch it from elsewhere.
        Assert.True(largest > 500_000, $"the largest script is only {largest} bytes");
    }

    [GeneratedRegex("<script[^>]*\\ssrc=\"([^\"]+)\"")]
    private static partial Regex ScriptSources();
}
