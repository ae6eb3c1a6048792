using System.Net;
using Npgsql;
using Xunit.Abstractions;
using PredictionApi.Storage;

namespace PredictionApi.Tests.Hostile;

/// <summary>
/// What the log says while PostgreSQL is down under load, read from the real process's console: the
/// outage once when it starts (with its cause), a summary while it lasts, once when it ends, and no stack traces.
/// </summary>
public sealed class DatabaseOutageLogTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Clients = 16;

    private readonly string _root = Path.Combine(Path.GetTempPath(), "pa-outage-" + Guid.NewGuid().ToString("N")[..8]);
    private PostgresServer _server = null!;

    public async Task InitializeAsync()
    {
        _server = await TestPostgres.StartPrivateServerAsync(_root);
    }

    public async Task DisposeAsync()
    {
        await _server.StopAsync(CancellationToken.None);
        Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task AnOutageUnderSixteenClientsIsLoggedWhenItStartsWhileItLastsAndWhenItEnds()
    {
        var port = TestPostgres.FreePort();
        var database = new NpgsqlConnectionStringBuilder(_server.ConnectionString("postgres")) { Timeout = 2 }.ConnectionString;
        await using var service = ServiceProcess.Start($"--ConnectionStrings:Predictions={database}", "--urls", $"http://127.0.0.1:{port}");
        var address = new Uri($"http://127.0.0.1:{port}");
        await service.WaitForReadyAsync(address);
        var startupLog = service.Output.Length;

        using var client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
        var png = Mnist.Png(0);
        int ok = 0, unavailable = 0, other = 0;
        using var stop = new CancellationTokenSource();
        async Task PostUntilStoppedAsync()
        {
            while (!stop.IsCancellationRequested)
            {
                using var response = await client.PostAsync("/prediction", TestImages.Form(png, "outage.png"));
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    Interlocked.Increment(ref ok);
                }
                else if (response.StatusCode == HttpStatusCode.ServiceUnavailable)
                {
                    Interlocked.Increment(ref unavailable);
                }
                else
                {
                    Interlocked.Increment(ref other);
                }

                // Enough load for hundreds of failures without starving the two cores the service shares.
                await Task.Delay(10);
            }
        }

        var clients = Enumerable.Range(0, Clients).Select(_ => Task.Run(PostUntilStoppedAsync)).ToArray();
        await WaitUntilAsync(() => Volatile.Read(ref ok) >= Clients, "requests to succeed before the outage");
        await _server.StopAsync(CancellationToken.None);
        // Long enough for one summary.
        await Task.Delay(DatabaseOutage.SummaryInterval + TimeSpan.FromSeconds(1.5));
        await _server.StartAsync(CancellationToken.None);
        var okWhenBack = Volatile.Read(ref ok);
        await WaitUntilAsync(() => Volatile.Read(ref ok) >= okWhenBack + Clients, "requests to succeed after the outage");
        await stop.CancelAsync();
        await Task.WhenAll(clients);
        // The end is logged at the next probe after PostgreSQL is back; asserted below, with the rest of the log.
        await EventuallyAsync(() => service.Output.Contains("PostgreSQL answers again"));

        var log = service.Output[startupLog..];
        // A log per request would be megabytes; the start of it shows what went wrong.
        var excerpt = log.Length > 20_000 ? log[..20_000] + "\n..." : log;
        output.WriteLine($"{ok} requests stored, {unavailable} answered 503, {other} other; the log meanwhile:\n{excerpt}");
        var entries = log.Split('\n').Where(line => line.StartsWith("warn:") || line.StartsWith("fail:") || line.StartsWith("crit:")).ToList();
        Assert.True(unavailable >= 100, $"only {unavailable} requests failed; the outage did not test anything");
        Assert.Equal(0, other);
        Assert.Single(Lines(log, "PostgreSQL is unavailable: "));
        // The cause: the server refusing connections, shutting down the backends of requests in flight, or a
        // pooled connection found broken when a write (a group commit's, say) was sent on it.
        Assert.Matches("PostgreSQL is unavailable: .*(refused|57P01|shutting down|terminating|Broken pipe|reset by peer|end of stream)", log);
        Assert.Contains("requests failed in the last 10 s", Assert.Single(Lines(log, "PostgreSQL is still unavailable after ")));
        Assert.Single(Lines(log, "PostgreSQL answers again after "));
        Assert.True(entries.Count == 3, $"{entries.Count} warnings for {unavailable} failed requests:\n{excerpt}");
        Assert.DoesNotContain("   at ", log);
    }

    private static IEnumerable<string> Lines(string log, string start) =>
        log.Split('\n').Select(line => line.Trim()).Where(line => line.StartsWith(start, StringComparison.Ordinal));

    private static async Task WaitUntilAsync(Func<bool> condition, string what) =>
        Assert.True(await EventuallyAsync(condition), $"timed out waiting for {what}");

    private static async Task<bool> EventuallyAsync(Func<bool> condition)
    {
        for (var i = 0; i < 300 && !condition(); i++)
        {
            await Task.Delay(50);
        }

        return condition();
    }
}
