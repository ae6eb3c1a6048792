using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using PredictionApi.Storage;

namespace PredictionApi.Tests.Replicas;

/// <summary>
/// Several instances as processes of their own on one PostgreSQL, as replicas behind a load balancer run:
/// periodic jobs on exactly one of them (moving when it dies), a stopping instance that drains, and one
/// Idempotency-Key sent to two instances at once stored once.
/// </summary>
public sealed class ReplicaTests : IAsyncLifetime
{
    private const string Sweep = "Swept expired idempotency keys";

    private readonly string _root = Path.Combine(Path.GetTempPath(), "pa-replicas-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly List<(ServiceProcess Process, Uri Address)> _instances = [];
    private PostgresServer _server = null!;

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
    }

    public async Task DisposeAsync()
    {
        foreach (var (process, _) in _instances)
        {
            await process.DisposeAsync();
        }

        await _server.StopAsync(CancellationToken.None);
        Directory.Delete(_root, recursive: true);
    }

    private string Database => _server.ConnectionString("postgres");

    private async Task<(ServiceProcess Process, Uri Address)[]> StartAsync(int count, params string[] settings)
    {
        var started = Enumerable.Range(0, count).Select(_ =>
        {
            var port = TestPostgres.FreePort();
            var process = ServiceProcess.Start([$"--ConnectionStrings:Predictions={Database}", "--urls", $"http://127.0.0.1:{port}", .. settings]);
            return (process, new Uri($"http://127.0.0.1:{port}"));
        }).ToArray();
        _instances.AddRange(started);
        await Task.WhenAll(started.Select(s => s.Item1.WaitForReadyAsync(s.Item2)));
        return started;
    }

    private static int Count(string log, string text) => Regex.Matches(log, Regex.Escape(text)).Count;

    [Fact]
    public async Task PeriodicJobsRunOnOneOfThreeInstancesAndMoveToAnotherWhenItIsKilled()
    {
        var instances = await StartAsync(3, "--Batch:IdempotencySweepSeconds=1",
            "--Logging:LogLevel:PredictionApi.Predictions.IdempotencySweeper=Debug");
        // Counted from when all three are ready (the first may have swept for a while before the others started).
        var started = instances.Select(i => Count(i.Process.Output, Sweep)).ToArray();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await Task.Delay(TimeSpan.FromSeconds(4));

        var sweeps = instances.Select(i => Count(i.Process.Output, Sweep)).ToArray();
        var elapsed = clock.Elapsed.TotalSeconds;
        var leader = Array.FindIndex(sweeps, s => s > 0);
        Assert.True(leader >= 0, "no instance swept");
        Assert.True(sweeps.Count(s => s > 0) == 1, $"sweeps per instance: {string.Join(", ", sweeps)}");
        // Once a second, by the one instance: each period's sweep runs once, not once per instance.
        Assert.InRange(sweeps[leader] - started[leader], 2, (int)Math.Ceiling(elapsed) + 2);

        await instances[leader].Process.SignalAsync("KILL");
        await instances[leader].Process.WaitForExitAsync();
        var others = instances.Where((_, i) => i != leader).ToArray();
        var before = others.Select(i => Count(i.Process.Output, Sweep)).ToArray();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (DateTime.UtcNow < deadline && others.All(i => Count(i.Process.Output, Sweep) == 0))
        {
            await Task.Delay(200);
        }

        await Task.Delay(TimeSpan.FromSeconds(3));
        var after = others.Select((i, n) => Count(i.Process.Output, Sweep) - before[n]).ToArray();
        Assert.True(after.Count(s => s > 0) == 1, $"after the leader was killed, sweeps per remaining instance: {string.Join(", ", after)}");
        Assert.Contains("This instance now runs the periodic jobs", others.Single(i => Count(i.Process.Output, Sweep) > 0).Process.Output);
    }

    [Fact]
    public async Task OneIdempotencyKeySentToTwoInstancesAtOnceIsStoredOnceAndBothGetItsAnswer()
    {
        var instances = await StartAsync(2);
        var key = Guid.NewGuid().ToString();
        var png = Mnist.Png(5);

        async Task<JsonElement> PostAsync(Uri address)
        {
            using var client = new HttpClient { BaseAddress = address };
            using var request = new HttpRequestMessage(HttpMethod.Post, "/prediction") { Content = TestImages.Form(png, "shared-key.png") };
            request.Headers.Add("Idempotency-Key", key);
            using var response = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return await response.Content.ReadFromJsonAsync<JsonElement>();
        }

        var answers = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => PostAsync(instances[i % 2].Address)));

        Assert.Single(answers.Select(a => a.GetProperty("prediction_id").GetInt64()).Distinct());
        await using var connection = new NpgsqlConnection(Database);
        Assert.Equal(1, await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM inputs WHERE filename = 'shared-key.png'"));
    }

    [Fact]
    public async Task AStoppingInstanceTurnsNotReadyAtOnceServesThroughItsDrainAndLosesNoAcknowledgedUpload()
    {
        var (process, address) = (await StartAsync(1, "--Shutdown:DrainSeconds=3"))[0];
        using var client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
        var png = Mnist.Png(3);
        var acknowledged = new System.Collections.Concurrent.ConcurrentBag<long>();
        var failedBeforeClose = 0;
        using var stop = new CancellationTokenSource();
        var closed = false;
        async Task PostAsync()
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    using var response = await client.PostAsync("/prediction", TestImages.Form(png, "drain.png"));
                    if (response.StatusCode == HttpStatusCode.OK)
                    {
                        acknowledged.Add((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("prediction_id").GetInt64());
                    }
                    else if (!Volatile.Read(ref closed))
                    {
                        Interlocked.Increment(ref failedBeforeClose);
                    }
                }
                catch (HttpRequestException)
                {
                    // After the drain the instance closes its port; a balancer has sent traffic elsewhere by then.
                    await Task.Delay(20);
                }
            }
        }

        var clients = Enumerable.Range(0, 4).Select(_ => Task.Run(PostAsync)).ToArray();
        await Task.Delay(500);
        var sigterm = DateTime.UtcNow;
        await process.SignalAsync("TERM");

        // Readiness turns at once, while uploads go on being served.
        using var probe = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(5) };
        var notReadyAfter = TimeSpan.MaxValue;
        while (DateTime.UtcNow - sigterm < TimeSpan.FromSeconds(2))
        {
            using var ready = await probe.GetAsync("/health/ready");
            if (ready.StatusCode == HttpStatusCode.ServiceUnavailable)
            {
                notReadyAfter = DateTime.UtcNow - sigterm;
                break;
            }
        }

        var duringDrain = acknowledged.Count;
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.True(acknowledged.Count > duringDrain, "no upload was served during the drain");
        Volatile.Write(ref closed, true);
        Assert.Equal(0, await process.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        await stop.CancelAsync();
        await Task.WhenAll(clients);

        Assert.True(notReadyAfter < TimeSpan.FromSeconds(1), $"/health/ready still answered 200 {notReadyAfter} after SIGTERM");
        Assert.Equal(0, failedBeforeClose);
        await using var connection = new NpgsqlConnection(Database);
        var stored = (await connection.QueryAsync<long>("SELECT id FROM predictions")).ToHashSet();
        Assert.All(acknowledged, id => Assert.Contains(id, stored));
    }
}
