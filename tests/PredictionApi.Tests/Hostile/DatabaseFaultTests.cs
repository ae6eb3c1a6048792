using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Npgsql;

namespace PredictionApi.Tests.Hostile;

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
    public async Task WhenEveryPooledConnectionIsKilledAtMostTheFirstRequestFailsAndNothingIsHalfWritten()
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

            // The first request on a killed pooled connection fails, honestly, as a 503; it also drops the
            // pool's other dead connections, so no later request fails.
            await HostileAssert.ProblemAsync(response, 5, "a request on a killed pooled connection");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.True(i == 0, $"request {i} failed too: the pool kept handing out dead connections");
        }

        Assert.True(ok >= 11);
        Assert.Equal((before.Inputs + ok, before.Predictions + ok), await service.CountRowsAsync());
    }

    [Fact]
    public async Task WhileTheDatabaseIsStoppedEveryEndpointIs503AndItServesAgainOnceItIsBack()
    {
        var id = await AssertPostOkAsync("kept.png");
        var before = await service.CountRowsAsync();

        // Stopped in the middle of a request: the insert waits on a lock when the server shuts down.
        bool duringStopStored;
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
            // Shutdown also ends the lock holder, so the waiting insert may still commit just before its own
            // backend is stopped: then the 200 is true and the row is counted below. Otherwise it is a 503.
            duringStopStored = response.StatusCode == HttpStatusCode.OK;
            if (!duringStopStored)
            {
                await HostileAssert.ProblemAsync(response, 5, "a request when the server stopped");
                Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            }
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
        var added = duringStopStored ? 2 : 1;
        Assert.Equal((before.Inputs + added, before.Predictions + added), await service.CountRowsAsync());
        var stored = await service.Client.GetFromJsonAsync<JsonElement>($"/prediction/{id}");
        Assert.Equal("kept.png", stored.GetProperty("filename").GetString());
        using var readyAgain = await service.Client.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, readyAgain.StatusCode);
    }

    [Fact]
    public async Task WhileTheDatabaseIsReadOnlyUploadsAre503SayingSoReadsAnswerAndTheServiceIsNotReady()
    {
        var id = await AssertPostOkAsync("before-read-only.png");
        var before = await service.CountRowsAsync();
        // What a failover to a standby looks like to the service: PostgreSQL answers, every write fails with 25006.
        await SetReadOnlyAsync(true);
        try
        {
            using (var response = await service.PostAsync("read-only.png"))
            {
                var problem = await HostileAssert.ProblemAsync(response, 5, "an upload to a read-only database");
                Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
                Assert.NotNull(response.Headers.RetryAfter);
                var detail = problem.GetProperty("detail").GetString();
                Assert.Contains("read-only", detail);
                Assert.Contains("nothing was stored", detail);
            }

            using (var ready = await service.Client.GetAsync("/health/ready"))
            {
                Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
                Assert.Contains("accepts no writes", await ready.Content.ReadAsStringAsync());
            }

            var stored = await service.Client.GetFromJsonAsync<JsonElement>($"/prediction/{id}");
            Assert.Equal("before-read-only.png", stored.GetProperty("filename").GetString());
            Assert.Equal(before, await service.CountRowsAsync());
        }
        finally
        {
            await SetReadOnlyAsync(false);
        }

        await AssertPostOkAsync("after-read-only.png");
        using var readyAgain = await service.Client.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, readyAgain.StatusCode);
    }

    /// <summary>Sets the whole (private) cluster read-only or back, for the sessions already open too.</summary>
    private async Task SetReadOnlyAsync(bool readOnly)
    {
        await using var connection = new NpgsqlConnection(service.AdminConnectionString);
        await connection.ExecuteAsync(readOnly ? "ALTER SYSTEM SET default_transaction_read_only = on" : "ALTER SYSTEM RESET default_transaction_read_only");
        await connection.ExecuteAsync("SELECT pg_reload_conf()");
        // A reload reaches each backend at its next command; wait until a new session sees it.
        for (var i = 0; i < 100 && await connection.ExecuteScalarAsync<string>("SHOW default_transaction_read_only") != (readOnly ? "on" : "off"); i++)
        {
            await Task.Delay(20);
        }
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
