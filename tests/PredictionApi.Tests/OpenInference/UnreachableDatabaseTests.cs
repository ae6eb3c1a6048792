using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace PredictionApi.Tests.OpenInference;

/// <summary>PostgreSQL unreachable: the server is live but not ready, and an inference is a 503 error object that stores nothing.</summary>
public sealed class UnreachableDatabaseTests : IAsyncLifetime
{
    private string _database = null!;
    private PostgresProxy _proxy = null!;
    private PredictionApiFactory _factory = null!;

    public async Task InitializeAsync()
    {
        _database = await TestPostgres.CreateDatabaseAsync("v2down");
        _proxy = new PostgresProxy(_database);
        _factory = new PredictionApiFactory(_proxy.ConnectionString);
        _ = _factory.Server;
    }

    public async Task DisposeAsync()
    {
        await _factory.DisposeAsync();
        await _proxy.DisposeAsync();
        await TestPostgres.DropDatabaseAsync(_database);
    }

    [Fact]
    public async Task ReadyIs503AndAnInferenceIsA503ErrorWhileTheDatabaseCannotBeReached()
    {
        using var client = _factory.CreateClient();
        using (var before = await client.GetAsync("/v2/health/ready"))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }

        _proxy.Refuse = true;
        // Idle pooled connections were opened before; a new one is what cannot be had.
        _factory.Services.GetRequiredService<NpgsqlDataSource>().Clear();
        try
        {
            using var ready = await client.GetAsync("/v2/health/ready");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
            Assert.False((await ready.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("ready").GetBoolean());
            using var live = await client.GetAsync("/v2/health/live");
            Assert.Equal(HttpStatusCode.OK, live.StatusCode);

            var body = JsonSerializer.Serialize(new { inputs = new[] { new { name = "input", shape = new[] { 1, 1, 28, 28 }, datatype = "FP32", data = new float[784] } } });
            using var infer = await OpenInferenceService.PostJsonAsync(client, "/v2/models/mnist/infer", body);
            await V2Assert.ErrorAsync(infer, HttpStatusCode.ServiceUnavailable, "nothing was stored");
        }
        finally
        {
            _proxy.Refuse = false;
        }

        await using var connection = new NpgsqlConnection(_database);
        await connection.OpenAsync();
        await using var count = new NpgsqlCommand("SELECT count(*) FROM inputs", connection);
        Assert.Equal(0L, (long)(await count.ExecuteScalarAsync())!);
    }
}
