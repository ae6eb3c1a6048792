using System.Net;
using System.Text;
using System.Text.Json;
using Dapper;
using Npgsql;
using PredictionApi.Tests.OpenInference;

namespace PredictionApi.Tests.Hostile;

/// <summary>Beyond the uploads it takes at once, the service refuses at once with 503 and Retry-After, stores nothing for them, and keeps answering probes.</summary>
public sealed class OverloadTests : IAsyncLifetime
{
    private ConfiguredService _service = null!;

    public async Task InitializeAsync()
    {
        _service = await ConfiguredService.CreateAsync("overload", new Dictionary<string, string?>
        {
            ["Admission:MaxConcurrentUploads"] = "1",
            ["Admission:MaxQueuedUploads"] = "0",
            ["Admission:RetryAfterSeconds"] = "2",
        });
    }

    public async Task DisposeAsync() => await _service.DisposeAsync();

    [Fact]
    public async Task UploadsBeyondTheLimitAreRefusedAtOnceWithRetryAfterAndStoreNothing()
    {
        using var client = _service.Factory.CreateClient();
        var png = Mnist.Png(2);
        var responses = await Task.WhenAll(Enumerable.Range(0, 24).Select(i => client.PostAsync("/prediction", TestImages.Form(png, $"overload-{i}.png"))));
        using var live = await client.GetAsync("/health/live");

        var refused = responses.Where(r => r.StatusCode == HttpStatusCode.ServiceUnavailable).ToArray();
        var stored = responses.Count(r => r.StatusCode == HttpStatusCode.OK);
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.True(refused.Length > 0, "no upload was refused with one allowed at a time");
        Assert.Equal(responses.Length, refused.Length + stored);
        foreach (var response in refused)
        {
            await ProblemAssert.AssertProblemAsync(response, HttpStatusCode.ServiceUnavailable, "nothing was stored");
            Assert.Equal(TimeSpan.FromSeconds(2), response.Headers.RetryAfter?.Delta);
            // The refusal is written from prepared bytes; it still names the request's trace, as every problem does.
            var problem = JsonSerializer.Deserialize<JsonElement>(await response.Content.ReadAsStringAsync());
            Assert.Matches("^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$", problem.GetProperty("trace_id").GetString());
            Assert.Equal("Too busy", problem.GetProperty("title").GetString());
        }

        await using var connection = new NpgsqlConnection(_service.Database);
        Assert.Equal(stored, await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM predictions"));
        foreach (var response in responses)
        {
            response.Dispose();
        }
    }

    [Fact]
    public async Task InferencesBeyondTheLimitAreRefusedInTheProtocolsErrorShape()
    {
        using var client = _service.Factory.CreateClient();
        var body = JsonSerializer.Serialize(new
        {
            inputs = new[] { new { name = "input", shape = new[] { 1 }, datatype = "BYTES", data = new[] { Convert.ToBase64String(Mnist.Png(4)) } } },
        });
        var responses = await Task.WhenAll(Enumerable.Range(0, 24).Select(_ =>
            client.PostAsync("/v2/models/mnist/infer", new StringContent(body, Encoding.UTF8, "application/json"))));

        var refused = responses.Where(r => r.StatusCode == HttpStatusCode.ServiceUnavailable).ToArray();
        Assert.True(refused.Length > 0, "no inference was refused with one upload allowed at a time");
        Assert.Equal(responses.Length, refused.Length + responses.Count(r => r.StatusCode == HttpStatusCode.OK));
        foreach (var response in refused)
        {
            Assert.Equal(TimeSpan.FromSeconds(2), response.Headers.RetryAfter?.Delta);
            await V2Assert.ErrorAsync(response, HttpStatusCode.ServiceUnavailable, "nothing was stored");
        }

        foreach (var response in responses)
        {
            response.Dispose();
        }
    }
}
