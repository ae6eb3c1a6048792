using System.Net;
using Dapper;
using Npgsql;

namespace PredictionApi.Tests.Hostile;

/// <summary>Beyond the uploads it takes at once, the service refuses at once with 503 and Retry-After, stores nothing for them, and keeps answering probes.</summary>
public sealed class OverloadTests : IAsyncLifetime
{
    private string _database = null!;
    private PredictionApiFactory _factory = null!;

    public async Task InitializeAsync()
    {
        _database = await TestPostgres.CreateDatabaseAsync("overload");
        _factory = new PredictionApiFactory(_database, new Dictionary<string, string?>
        {
            ["Admission:MaxConcurrentUploads"] = "1",
            ["Admission:MaxQueuedUploads"] = "0",
            ["Admission:RetryAfterSeconds"] = "2",
        });
    }

    public async Task DisposeAsync()
    {
        await _factory.DisposeAsync();
        await TestPostgres.DropDatabaseAsync(_database);
    }

    [Fact]
    public async Task UploadsBeyondTheLimitAreRefusedAtOnceWithRetryAfterAndStoreNothing()
    {
        using var client = _factory.CreateClient();
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
        }

        await using var connection = new NpgsqlConnection(_database);
        Assert.Equal(stored, await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM predictions"));
        foreach (var response in responses)
        {
            response.Dispose();
        }
    }
}
