using Dapper;
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
        _server = await TestPostgres.StartPrivateServerAsync(_root);
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
