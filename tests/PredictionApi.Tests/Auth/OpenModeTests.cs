using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using PredictionApi.Auth;

namespace PredictionApi.Tests.Auth;

/// <summary>Before the first key the service is open, says so, and closes within seconds once a key exists; Auth:Required closes it from the start.</summary>
public sealed class OpenModeTests : IAsyncLifetime
{
    private string _database = null!;

    public async Task InitializeAsync() => _database = await TestPostgres.CreateDatabaseAsync("open");

    public async Task DisposeAsync() => await TestPostgres.DropDatabaseAsync(_database);

    [Fact]
    public async Task OpenUntilTheFirstKeyThenEveryRequestNeedsOneWithinSeconds()
    {
        var logs = new LogCapture();
        await using var factory = new PredictionApiFactory(_database).WithWebHostBuilder(b => b.ConfigureLogging(l =>
        {
            l.AddProvider(logs);
            l.AddFilter<LogCapture>(null, LogLevel.Trace);
        }));
        using var client = factory.CreateClient();

        var stored = await client.PostPredictionAsync(Mnist.Png(0));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/predictions")).StatusCode);
        var one = await client.GetFromJsonAsync<JsonElement>($"/prediction/{stored.GetProperty("prediction_id").GetInt64()}");
        Assert.Equal(JsonValueKind.Null, one.GetProperty("created_by").ValueKind);
        var ready = await client.GetFromJsonAsync<JsonElement>("/health/ready");
        Assert.StartsWith("off:", ready.GetProperty("checks").GetProperty("auth").GetProperty("description").GetString());
        var startup = Assert.Single(logs.Entries, e => e.Category == typeof(AuthStartup).FullName);
        Assert.Equal(LogLevel.Information, startup.Level);
        Assert.StartsWith("API keys: off", startup.Message);

        await using var dataSource = NpgsqlDataSource.Create(_database);
        var created = await new ApiKeyStore(dataSource).CreateAsync("first", ["read"], null, null, CancellationToken.None);
        var closing = Stopwatch.StartNew();
        while ((await client.GetAsync("/predictions")).StatusCode == HttpStatusCode.OK)
        {
            Assert.True(closing.Elapsed < TimeSpan.FromSeconds(15), "still open 15 s after the first key was created");
            await Task.Delay(200);
        }

        Assert.True(closing.Elapsed < TimeSpan.FromSeconds(7), $"closed only after {closing.Elapsed}");
        await ProblemAssert.AssertProblemAsync(await client.GetAsync("/predictions"), HttpStatusCode.Unauthorized);
        using var keyed = factory.CreateClient();
        keyed.DefaultRequestHeaders.Authorization = new("Bearer", created!.Value.Key);
        Assert.Equal(HttpStatusCode.OK, (await keyed.GetAsync("/predictions")).StatusCode);
        ready = await client.GetFromJsonAsync<JsonElement>("/health/ready");
        Assert.StartsWith("on:", ready.GetProperty("checks").GetProperty("auth").GetProperty("description").GetString());
    }

    [Fact]
    public async Task AuthRequiredClosesTheServiceBeforeAnyKeyExists()
    {
        await using var factory = new PredictionApiFactory(_database, new Dictionary<string, string?> { ["Auth:Required"] = "true" });
        using var client = factory.CreateClient();

        await ProblemAssert.AssertProblemAsync(await client.GetAsync("/predictions"), HttpStatusCode.Unauthorized, "API key");
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/ready")).StatusCode);
    }
}
