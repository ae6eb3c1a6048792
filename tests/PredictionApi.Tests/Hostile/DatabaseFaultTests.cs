using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using PredictionApi.Storage;

namespace PredictionApi.Tests.Hostile;

/// <summary>
/// The service on a PostgreSQL cluster of its own (so it can be stopped without disturbing other tests),
/// on real Kestrel. Offers what fault tests need: stop and start the server, kill backends, count rows.
/// </summary>
public sealed class PrivatePostgresService : IAsyncLifetime
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "pa-fault-" + Guid.NewGuid().ToString("N")[..8]);
    private PostgresServer _server = null!;
    private PredictionApiFactory? _factory;

    public HttpClient Client { get; private set; } = null!;

    /// <summary>An administrative connection string that bypasses the service's pool.</summary>
    public string AdminConnectionString { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _server = new PostgresServer(new PostgresServerSettings
        {
            RootDirectory = _root,
            ListenAddress = "127.0.0.1",
            Port = TestPostgres.FreePort(),
            Settings = new Dictionary<string, string> { ["fsync"] = "off", ["full_page_writes"] = "off" },
        }, NullLogger.Instance);
        await _server.StartAsync(CancellationToken.None);
        // Short timeouts so a dead server is reported in seconds; a small pool so every pooled connection is exercised.
        var service = new NpgsqlConnectionStringBuilder(_server.ConnectionString("postgres")) { Timeout = 3, CommandTimeout = 15, MaxPoolSize = 8 };
        AdminConnectionString = new NpgsqlConnectionStringBuilder(service.ConnectionString) { Pooling = false }.ConnectionString;
        _factory = new PredictionApiFactory(service.ConnectionString);
        Client = new HttpClient { BaseAddress = _factory.StartKestrel(), Timeout = TimeSpan.FromSeconds(60) };
    }

    public async Task DisposeAsync()
    {
        Client?.Dispose();
        if (_factory is not null)
        {
            await _factory.DisposeAsync();
        }

        await _server.StopAsync(CancellationToken.None);
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Left for the operating system's temp cleaning.
        }
    }

    public Task StopDatabaseAsync() => _server.StopAsync(CancellationToken.None);

    public Task StartDatabaseAsync() => _server.StartAsync(CancellationToken.None);

    public async Task<(long Inputs, long Predictions)> CountRowsAsync()
    {
        await using var connection = new NpgsqlConnection(AdminConnectionString);
        return await connection.QuerySingleAsync<(long, long)>("SELECT (SELECT count(*) FROM inputs), (SELECT count(*) FROM predictions)");
    }

    /// <summary>Terminates every backend of the service (all but our own), as an administrator or a failover would.</summary>
    public async Task<long> KillServiceConnectionsAsync()
    {
        await using var connection = new NpgsqlConnection(AdminConnectionString);
        return await connection.ExecuteScalarAsync<long>(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'");
    }

    public Task<HttpResponseMessage> PostAsync(string fileName) => Client.PostAsync("/prediction", TestImages.Form(Mnist.Png(0), fileName));
}

/// <summary>
/// PostgreSQL going away under the service: a backend killed in the middle of a request, every pooled
/// connection killed at once, the server stopped (during a request, too) and started again. Each
/// failure is a 503 problem that says nothing was stored, nothing is half-written, and the service
/// serves again as soon as the database is back, without a restart.
/// </summary>
public sealed class DatabaseFaultTests(PrivatePostgresService service) : IClassFixture<PrivatePostgresService>
{
    [Fact]
    public async Task ABackendKilledWhileItsInsertWaitsIs503AndWritesNothing()
    {
        await AssertPostOkAsync("before.png");
        var before = await service.CountRowsAsync();
        await using (var locker = new NpgsqlConnection(service.AdminConnectionString))
        {
            await locker.OpenAsync();
            await using var transaction = await locker.BeginTransactionAsync();
            await locker.ExecuteAsync("LOCK TABLE predictions IN ACCESS EXCLUSIVE MODE", transaction: transaction);
            var post = service.PostAsync("killed.png");
            var pid = await WaitForBlockedBackendAsync();
            await using (var killer = new NpgsqlConnection(service.AdminConnectionString))
            {
                Assert.True(await killer.ExecuteScalarAsync<bool>("SELECT pg_terminate_backend(@pid)", new { pid }));
            }

            using var response = await post;
            var problem = await HostileAssert.ProblemAsync(response, 5, "a killed backend");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Contains("nothing was stored", problem.GetProperty("detail").GetString());
            await transaction.RollbackAsync();
        }

        Assert.Equal(before, await service.CountRowsAsync());
        await AssertPostOkAsync("after.png");
    }

    [Fact]
    public async Task WhenEveryPooledConnectionIsKilledRequestsFailCleanlyAndThenSucceed()
    {
        // Fill the pool with several connections, then kill them all while they sit idle.
        await Task.WhenAll(Enumerable.Range(0, 6).Select(i => AssertPostOkAsync($"warm-{i}.png")));
        var before = await service.CountRowsAsync();
        Assert.True(await service.KillServiceConnectionsAsync() > 0);

        var ok = 0;
        for (var i = 0; i < 12; i++)
        {
            using var response = await service.PostAsync($"after-kill-{i}.png");
            if (response.StatusCode == HttpStatusCode.OK)
            {
                ok++;
                continue;
            }

            // A dead pooled connection may fail one request: honestly, as a 503, and only until the pool has discarded it.
            await HostileAssert.ProblemAsync(response, 5, "a request on a killed pooled connection");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.True(i < 8, $"request {i} still failed: the pool keeps handing out dead connections");
        }

        Assert.True(ok >= 4);
        Assert.Equal((before.Inputs + ok, before.Predictions + ok), await service.CountRowsAsync());
    }

    [Fact]
    public async Task WhileTheDatabaseIsStoppedEveryEndpointIs503AndItServesAgainOnceItIsBack()
    {
        var id = await AssertPostOkAsync("kept.png");
        var before = await service.CountRowsAsync();

        // Stopped in the middle of a request: the insert waits on a lock when the server shuts down.
        await using (var locker = new NpgsqlConnection(service.AdminConnectionString))
        {
            await locker.OpenAsync();
            // Not disposed: the server's shutdown ends this transaction with the connection.
            var transaction = await locker.BeginTransactionAsync();
            await locker.ExecuteAsync("LOCK TABLE predictions IN ACCESS EXCLUSIVE MODE", transaction: transaction);
            var post = service.PostAsync("during-stop.png");
            await WaitForBlockedBackendAsync();
            await service.StopDatabaseAsync();
            using var response = await post;
            await HostileAssert.ProblemAsync(response, 5, "a request when the server stopped");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        }

        try
        {
            foreach (var (method, path) in new[] { ("POST", "/prediction"), ("GET", "/predictions"), ("GET", $"/prediction/{id}"), ("GET", $"/prediction/{id}/image"), ("PATCH", $"/prediction/{id}"), ("DELETE", $"/prediction/{id}") })
            {
                using var request = new HttpRequestMessage(new HttpMethod(method), path)
                {
                    Content = method switch
                    {
                        "POST" => TestImages.Form(Mnist.Png(0), "while-stopped.png"),
                        "PATCH" => JsonContent.Create(new { true_label = "7" }),
                        _ => null,
                    },
                };
                using var response = await service.Client.SendAsync(request);
                await HostileAssert.ProblemAsync(response, 5, $"{method} {path} while the database is stopped");
                Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            }

            using var ready = await service.Client.GetAsync("/health/ready");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
            using var live = await service.Client.GetAsync("/health/live");
            Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        }
        finally
        {
            await service.StartDatabaseAsync();
        }

        // Back without restarting the service; the pool may need a request or two to drop dead connections.
        var ok = false;
        for (var attempt = 0; attempt < 10 && !ok; attempt++)
        {
            using var response = await service.PostAsync("back.png");
            ok = response.StatusCode == HttpStatusCode.OK;
            if (!ok)
            {
                Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            }
        }

        Assert.True(ok, "the service did not serve again after the database came back");
        Assert.Equal((before.Inputs + 1, before.Predictions + 1), await service.CountRowsAsync());
        var stored = await service.Client.GetFromJsonAsync<JsonElement>($"/prediction/{id}");
        Assert.Equal("kept.png", stored.GetProperty("filename").GetString());
        using var readyAgain = await service.Client.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, readyAgain.StatusCode);
    }

    private async Task<long> AssertPostOkAsync(string fileName)
    {
        using var response = await service.PostAsync(fileName);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{fileName}: {(int)response.StatusCode} {text}");
        return JsonSerializer.Deserialize<JsonElement>(text).GetProperty("prediction_id").GetInt64();
    }

    private async Task<int> WaitForBlockedBackendAsync()
    {
        for (var i = 0; i < 200; i++)
        {
            await using var connection = new NpgsqlConnection(service.AdminConnectionString);
            if (await connection.QuerySingleOrDefaultAsync<int?>(
                    "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database() LIMIT 1") is { } pid)
            {
                return pid;
            }

            await Task.Delay(25);
        }

        throw new TimeoutException("The upload never reached the database.");
    }
}
