using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;

namespace PredictionApi.Storage;

/// <summary>
/// Gets the database ready before the service takes requests: starts the private cluster when one is
/// configured, waits for PostgreSQL to accept connections, and applies the schema. On shutdown it stops
/// the private cluster if it started it.
/// </summary>
internal sealed class DatabaseStartup(
    NpgsqlDataSource dataSource,
    DatabaseEndpoint endpoint,
    IOptions<DatabaseOptions> options,
    ILogger<DatabaseStartup> logger) : IHostedService
{
    private readonly LocalDatabase? _local = endpoint.Local;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (_local is not null)
        {
            await _local.StartAsync(cancellationToken);
        }

        if (!options.Value.ApplySchema)
        {
            return;
        }

        await WaitForDatabaseAsync(cancellationToken);
        await SchemaMigrator.ApplyAsync(dataSource, cancellationToken);
        logger.LogInformation("Database schema is up to date");
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_local is not null)
        {
            // Pooled connections would otherwise hold the fast shutdown up.
            dataSource.Clear();
            await _local.StopAsync(cancellationToken);
        }
    }

    private async Task WaitForDatabaseAsync(CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow.AddSeconds(options.Value.StartupTimeoutSeconds);
        var delay = TimeSpan.FromMilliseconds(250);
        while (true)
        {
            try
            {
                await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
                await connection.ExecuteScalarAsync<int>(new CommandDefinition("SELECT 1", cancellationToken: cancellationToken));
                return;
            }
            catch (NpgsqlException e) when (DateTime.UtcNow < deadline)
            {
                logger.LogWarning("PostgreSQL is not reachable yet ({Message}); retrying", e.Message);
                await Task.Delay(delay, cancellationToken);
                delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 2000));
            }
        }
    }
}
