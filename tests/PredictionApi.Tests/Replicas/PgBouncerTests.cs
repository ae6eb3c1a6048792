using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using PredictionApi.Storage;

namespace PredictionApi.Tests.Replicas;

/// <summary>
/// The service unchanged behind Debian's PgBouncer in transaction-pooling mode (the connection budget of
/// many replicas): uploads, batches with a key, reads, feedback and statistics all work through it, and
/// the periodic jobs' lock uses its own direct session (ConnectionStrings:Jobs).
/// </summary>
public sealed class PgBouncerTests : IAsyncLifetime
{
    private const string PgBouncer = "/usr/sbin/pgbouncer";

    private readonly string _root = Path.Combine(Path.GetTempPath(), "pa-bouncer-" + Guid.NewGuid().ToString("N")[..8]);
    private PostgresServer _server = null!;
    private Process? _bouncer;
    private int _bouncerPort;

    public async Task InitializeAsync()
    {
        if (!File.Exists(PgBouncer))
        {
            Assert.False(string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase),
                $"{PgBouncer} is missing and CI=true: install it with 'apt-get install -y pgbouncer' (.ci/run does).");
            return;
        }

        var pgPort = TestPostgres.FreePort();
        _server = new PostgresServer(new PostgresServerSettings
        {
            RootDirectory = Path.Combine(_root, "pg"),
            ListenAddress = "127.0.0.1",
            Port = pgPort,
            Settings = new Dictionary<string, string> { ["fsync"] = "off" },
        }, NullLogger.Instance);
        await _server.StartAsync(CancellationToken.None);

        _bouncerPort = TestPostgres.FreePort();
        Directory.CreateDirectory(_root);
        var config = Path.Combine(_root, "pgbouncer.ini");
        await File.WriteAllTextAsync(config, $"""
            [databases]
            postgres = host=127.0.0.1 port={pgPort} dbname=postgres
            [pgbouncer]
            listen_addr = 127.0.0.1
            listen_port = {_bouncerPort}
            unix_socket_dir =
            auth_type = trust
            auth_file = {Path.Combine(_root, "users.txt")}
            pool_mode = transaction
            default_pool_size = 4
            max_client_conn = 200
            ignore_startup_parameters = extra_float_digits
            """);
        await File.WriteAllTextAsync(Path.Combine(_root, "users.txt"), "\"postgres\" \"\"\n");
        // PgBouncer refuses to run as root.
        var asPostgres = Environment.UserName == "root";
        if (asPostgres)
        {
            using var chown = Process.Start("chown", ["-R", "postgres", _root]);
            await chown.WaitForExitAsync();
        }

        var start = asPostgres ? new ProcessStartInfo("runuser", ["-u", "postgres", "--", PgBouncer, config]) : new ProcessStartInfo(PgBouncer, [config]);
        start.RedirectStandardError = true;
        start.RedirectStandardOutput = true;
        _bouncer = Process.Start(start)!;
        _bouncer.BeginErrorReadLine();
        _bouncer.BeginOutputReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            try
            {
                await using var probe = new NpgsqlConnection(ThroughBouncer);
                await probe.OpenAsync();
                break;
            }
            catch (NpgsqlException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }

    public async Task DisposeAsync()
    {
        if (_bouncer is not null)
        {
            _bouncer.Kill(entireProcessTree: true);
            await _bouncer.WaitForExitAsync();
            _bouncer.Dispose();
            NpgsqlConnection.ClearAllPools();
            await _server.StopAsync(CancellationToken.None);
        }

        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    // Npgsql resets a pooled session when it is reused; with a transaction pooler there is no session to reset.
    private string ThroughBouncer => $"Host=127.0.0.1;Port={_bouncerPort};Username=postgres;Database=postgres;No Reset On Close=true;Timeout=5";

    [Fact]
    public async Task EveryKindOfRequestWorksThroughATransactionPoolingPgBouncer()
    {
        if (_bouncer is null)
        {
            return;
        }

        await using var factory = new PredictionApiFactory(ThroughBouncer, new Dictionary<string, string?>
        {
            ["ConnectionStrings:Jobs"] = _server.ConnectionString("postgres"),
        });
        await EveryKindOfRequestWorks(factory, expectedTotal: 25);
    }

    [Fact]
    public async Task WithoutAJobsConnectionThePoolerIsRecognisedByItsPortAndNothingIsPrepared()
    {
        if (_bouncer is null)
        {
            return;
        }

        // Prepared statements live in one server session; PgBouncer gives each transaction any of its four, where they
        // do not exist. The service sees that PostgreSQL's port is not the one it connects to, and prepares nothing.
        await using var factory = new PredictionApiFactory(ThroughBouncer);
        for (var round = 0; round < 3; round++)
        {
            await EveryKindOfRequestWorks(factory, expectedTotal: 25 * (round + 1));
        }
    }

    private static async Task EveryKindOfRequestWorks(PredictionApiFactory factory, long expectedTotal)
    {
        using var client = factory.CreateClient();

        // Concurrent uploads share PgBouncer's four server connections.
        var uploads = await Task.WhenAll(Enumerable.Range(0, 24).Select(async i =>
        {
            using var response = await client.PostAsync("/prediction", TestImages.Form(Mnist.Png(i % 10), $"bouncer-{i}.png"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return await response.Content.ReadFromJsonAsync<JsonElement>();
        }));
        var id = uploads[0].GetProperty("prediction_id").GetInt64();

        using var batch = new HttpRequestMessage(HttpMethod.Post, "/predictions/batch") { Content = TestImages.Form(Mnist.Png(1), "a.png") };
        batch.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
        using (var stored = await client.SendAsync(batch))
        {
            Assert.Equal(HttpStatusCode.OK, stored.StatusCode);
        }

        using (var patch = await client.PatchAsync($"/prediction/{id}", new StringContent("""{"true_label": "0"}""", Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.OK, patch.StatusCode);
        }

        var page = await client.GetFromJsonAsync<JsonElement>("/predictions?limit=10");
        Assert.Equal(10, page.GetProperty("items").GetArrayLength());
        var one = await client.GetFromJsonAsync<JsonElement>($"/prediction/{id}");
        Assert.Equal("0", one.GetProperty("true_label").GetString());
        var stats = await client.GetFromJsonAsync<JsonElement>("/predictions/stats");
        Assert.Equal(expectedTotal, stats.GetProperty("total").GetInt64());
        using var ready = await client.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
    }
}
