using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using PredictionApi.Storage;

namespace PredictionApi.Tests.Hostile;

/// <summary>
/// Group commit keeps the promise of a 200: concurrent uploads share transactions, each gets its own
/// rows, and whatever happens to the process or to PostgreSQL, every acknowledged prediction is stored,
/// no input is left without its prediction, and no upload told "nothing was stored" was stored.
/// </summary>
public sealed class GroupCommitTests : IAsyncLifetime
{
    private const int Clients = 16;

    private readonly string _root = Path.Combine(Path.GetTempPath(), "pa-group-" + Guid.NewGuid().ToString("N")[..8]);
    private PostgresServer _server = null!;

    public async Task InitializeAsync()
    {
        _server = new PostgresServer(new PostgresServerSettings
        {
            RootDirectory = _root,
            ListenAddress = "127.0.0.1",
            Port = TestPostgres.FreePort(),
            Settings = new Dictionary<string, string> { ["full_page_writes"] = "off" },
        }, NullLogger.Instance);
        await _server.StartAsync(CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await _server.StopAsync(CancellationToken.None);
        Directory.Delete(_root, recursive: true);
    }

    private string Database => new NpgsqlConnectionStringBuilder(_server.ConnectionString("postgres")) { Timeout = 3 }.ConnectionString;

    [Fact]
    public async Task ConcurrentUploadsShareCommitsAndEachGetsItsOwnRows()
    {
        await using var factory = new PredictionApiFactory(Database, new Dictionary<string, string?> { ["GroupCommit:Writers"] = "1" });
        using var client = factory.CreateClient();
        var uploads = Enumerable.Range(0, 48).Select(i => (Name: $"group-{i}.png", Digit: i % 10)).ToArray();

        var answers = await Task.WhenAll(uploads.Select(async u =>
        {
            using var response = await client.PostAsync("/prediction", TestImages.Form(Mnist.Png(u.Digit), u.Name));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return await response.Content.ReadFromJsonAsync<JsonElement>();
        }));

        await using var connection = new NpgsqlConnection(Database);
        var rows = (await connection.QueryAsync<(long Id, long InputId, string Filename, int LikelyClass, string Xmin)>("""
            SELECT p.id, p.input_id, i.filename, p.likely_class, p.xmin::text
            FROM predictions p JOIN inputs i ON i.id = p.input_id WHERE i.filename LIKE 'group-%'
            """)).ToDictionary(r => r.Id);
        Assert.Equal(uploads.Length, rows.Count);
        foreach (var answer in answers)
        {
            // Each answer names the rows of its own upload, though they were inserted by one statement with others.
            var row = rows[answer.GetProperty("prediction_id").GetInt64()];
            Assert.Equal(answer.GetProperty("input_id").GetInt64(), row.InputId);
            Assert.Equal(answer.GetProperty("filename").GetString(), row.Filename);
            Assert.Equal(answer.GetProperty("likely_class").GetInt32(), row.LikelyClass);
        }

        // Rows written by one transaction share its xmin: fewer transactions than uploads means commits were shared.
        var transactions = rows.Values.Select(r => r.Xmin).Distinct().Count();
        Assert.True(transactions < uploads.Length, $"{uploads.Length} uploads took {transactions} transactions");
    }

    [Fact]
    public async Task AServiceKilledUnderLoadKeepsEveryAcknowledgedPredictionAndLeavesNoOrphanInput()
    {
        var (service, address) = await StartServiceAsync();
        await using var _ = service;
        var load = new Load(address);
        var clients = load.Start();
        await load.WaitForAsync(200);
        await service.SignalAsync("KILL");
        await service.WaitForExitAsync();
        await load.StopAsync(clients);

        await AssertNothingLostAsync(load, "kill -9");
    }

    [Fact]
    public async Task APostgresRestartUnderLoadLosesNoAcknowledgedPredictionAndStoresNothingItDenied()
    {
        var (service, address) = await StartServiceAsync();
        await using var _ = service;
        var load = new Load(address);
        var clients = load.Start();
        await load.WaitForAsync(200);
        await _server.StopAsync(CancellationToken.None);
        await Task.Delay(TimeSpan.FromSeconds(1));
        await _server.StartAsync(CancellationToken.None);
        var before = load.Acknowledged.Count;
        await load.WaitForAsync(before + 200);
        await load.StopAsync(clients);

        Assert.True(load.Denied.Count > 0, "no request failed while PostgreSQL was down; the restart tested nothing");
        await AssertNothingLostAsync(load, "a PostgreSQL restart");
    }

    /// <summary>The service as a process of its own on this test's PostgreSQL, ready.</summary>
    private async Task<(ServiceProcess Service, Uri Address)> StartServiceAsync()
    {
        var address = new Uri($"http://127.0.0.1:{TestPostgres.FreePort()}");
        var service = ServiceProcess.Start($"--ConnectionStrings:Predictions={Database}", "--urls", address.ToString());
        try
        {
            await service.WaitForReadyAsync(address);
            return (service, address);
        }
        catch
        {
            await service.DisposeAsync();
            throw;
        }
    }

    private async Task AssertNothingLostAsync(Load load, string what)
    {
        await using var connection = new NpgsqlConnection(Database);
        var stored = (await connection.QueryAsync<(long Id, string Filename)>(
            "SELECT p.id, i.filename FROM predictions p JOIN inputs i ON i.id = p.input_id")).ToDictionary(r => r.Id, r => r.Filename);
        foreach (var (id, name) in load.Acknowledged)
        {
            Assert.True(stored.TryGetValue(id, out var filename) && filename == name, $"after {what}, acknowledged prediction {id} ({name}) is missing");
        }

        var names = stored.Values.ToHashSet();
        foreach (var name in load.Denied)
        {
            Assert.False(names.Contains(name), $"after {what}, {name} was answered 'nothing was stored' but is stored");
        }

        Assert.Equal(0, await connection.ExecuteScalarAsync<long>(
            "SELECT count(*) FROM inputs i WHERE NOT EXISTS (SELECT 1 FROM predictions p WHERE p.input_id = i.id)"));
    }

    /// <summary>Clients posting uniquely named uploads until stopped, keeping what each answer said.</summary>
    private sealed class Load(Uri address)
    {
        private readonly HttpClient _client = new() { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
        private readonly CancellationTokenSource _stop = new();
        private int _next;

        public ConcurrentBag<(long Id, string Name)> Acknowledged { get; } = [];

        /// <summary>Uploads answered with a 503 that says nothing was stored.</summary>
        public ConcurrentBag<string> Denied { get; } = [];

        public Task[] Start() => Enumerable.Range(0, Clients).Select(_ => Task.Run(RunAsync)).ToArray();

        public async Task WaitForAsync(int acknowledged)
        {
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (Acknowledged.Count < acknowledged && DateTime.UtcNow < deadline)
            {
                await Task.Delay(20);
            }

            Assert.True(Acknowledged.Count >= acknowledged, $"only {Acknowledged.Count} uploads were acknowledged");
        }

        public async Task StopAsync(Task[] clients)
        {
            await _stop.CancelAsync();
            await Task.WhenAll(clients);
            _client.Dispose();
        }

        private async Task RunAsync()
        {
            var png = Mnist.Png(0);
            while (!_stop.IsCancellationRequested)
            {
                var name = $"load-{Interlocked.Increment(ref _next)}.png";
                try
                {
                    using var response = await _client.PostAsync("/prediction", TestImages.Form(png, name));
                    var body = await response.Content.ReadFromJsonAsync<JsonElement>();
                    if (response.StatusCode == HttpStatusCode.OK)
                    {
                        Acknowledged.Add((body.GetProperty("prediction_id").GetInt64(), name));
                    }
                    else if (body.TryGetProperty("detail", out var detail) && detail.GetString()!.Contains("nothing was stored"))
                    {
                        Denied.Add(name);
                    }
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException)
                {
                    // The service was killed mid-request: no answer, so nothing was promised.
                    await Task.Delay(50);
                }
            }
        }
    }
}
