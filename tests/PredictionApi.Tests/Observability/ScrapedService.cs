using Npgsql;

namespace PredictionApi.Tests.Observability;

/// <summary>
/// The service run as its own process, reaching its database through a <see cref="PostgresProxy"/>, and a Prometheus
/// that scrapes it with the alert rules deploy/ ships: what an alert test watches, with the database to take away.
/// </summary>
internal sealed class ScrapedService : IAsyncDisposable
{
    private readonly string _database;
    private readonly PostgresProxy _proxy;
    private readonly ServiceProcess _process;

    private ScrapedService(string database, PostgresProxy proxy, ServiceProcess process, PrometheusProcess prometheus, Uri address)
    {
        (_database, _proxy, _process, Prometheus) = (database, proxy, process, prometheus);
        Client = new HttpClient { BaseAddress = address };
    }

    public PrometheusProcess Prometheus { get; }

    /// <summary>A client of the service.</summary>
    public HttpClient Client { get; }

    /// <summary>Starts the service over <paramref name="database"/> with <paramref name="settings"/> besides, and Prometheus once it is ready.</summary>
    public static async Task<ScrapedService> StartAsync(string database, params string[] settings)
    {
        var proxy = new PostgresProxy(database);
        ServiceProcess? process = null;
        try
        {
            var address = new Uri($"http://127.0.0.1:{TestPostgres.FreePort()}");
            process = ServiceProcess.Start([$"--ConnectionStrings:Predictions={proxy.ConnectionString}", "--urls", address.ToString(), .. settings]);
            await process.WaitForReadyAsync(address);
            var prometheus = await PrometheusProcess.StartAsync(address, Path.Combine(RepoPaths.Root, "deploy", "predictionapi-alerts.yml"));
            return new ScrapedService(database, proxy, process, prometheus, address);
        }
        catch
        {
            // Nothing is left running when the start fails.
            if (process is not null)
            {
                await process.DisposeAsync();
            }

            await proxy.DisposeAsync();
            throw;
        }
    }

    /// <summary>PostgreSQL becomes unreachable: the proxy takes no new connection, and the open ones are closed.</summary>
    public async Task CutDatabaseAsync()
    {
        _proxy.Refuse = true;
        await using var admin = new NpgsqlConnection(_database);
        await admin.OpenAsync();
        await using var terminate = new NpgsqlCommand(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()", admin);
        await terminate.ExecuteScalarAsync();
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Prometheus.DisposeAsync();
        await _process.DisposeAsync();
        await _proxy.DisposeAsync();
    }
}
