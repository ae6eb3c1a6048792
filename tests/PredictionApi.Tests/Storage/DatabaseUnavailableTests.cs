using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace PredictionApi.Tests.Storage;

/// <summary>When PostgreSQL is down the service says so (503 problem, not ready) and keeps running.</summary>
public sealed class DatabaseUnavailableTests : IAsyncLifetime
{
    private PredictionApiFactory _factory = null!;
    private HttpClient _client = null!;

    public Task InitializeAsync()
    {
        // A port nothing listens on; the schema step is skipped so the service starts anyway.
        var nowhere = $"Host=127.0.0.1;Port={TestPostgres.FreePort()};Username=postgres;Database=none;Timeout=2";
        _factory = new PredictionApiFactory(nowhere, new Dictionary<string, string?> { ["Database:ApplySchema"] = "false" });
        _client = _factory.CreateClient();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _factory.DisposeAsync();

    [Fact]
    public async Task PostingWhileTheDatabaseIsDownIs503AndTheServiceStaysLiveButNotReady()
    {
        using var post = await _client.PostAsync("/prediction", TestImages.Form(Mnist.Png(0)));
        await ProblemAssert.AssertProblemAsync(post, HttpStatusCode.ServiceUnavailable, "nothing was stored");
        Assert.Equal("5", post.Headers.GetValues("Retry-After").Single());
        // A read stores nothing to begin with; a label change or a delete changes nothing.
        using var list = await _client.GetAsync("/predictions");
        var read = await ProblemAssert.AssertProblemAsync(list, HttpStatusCode.ServiceUnavailable, "unavailable. Retry later");
        Assert.DoesNotContain("nothing", read.GetProperty("detail").GetString());
        Assert.Equal("5", list.Headers.GetValues("Retry-After").Single());
        using var patch = await _client.PatchAsync("/prediction/1", new StringContent("""{"true_label": "7"}""", System.Text.Encoding.UTF8, "application/json"));
        await ProblemAssert.AssertProblemAsync(patch, HttpStatusCode.ServiceUnavailable, "nothing was changed");
        using var delete = await _client.DeleteAsync("/prediction/1");
        await ProblemAssert.AssertProblemAsync(delete, HttpStatusCode.ServiceUnavailable, "nothing was changed");

        using var ready = await _client.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        var report = await ready.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("Unhealthy", report.GetProperty("checks").GetProperty("database").GetProperty("status").GetString());
        Assert.Equal("Healthy", report.GetProperty("checks").GetProperty("model").GetProperty("status").GetString());
        using var live = await _client.GetAsync("/health/live");
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
    }
}
