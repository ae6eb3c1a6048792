using Dapper;
using Npgsql;

namespace PredictionApi.Storage;

/// <summary>
/// Which instance runs the periodic jobs (the idempotency-key sweep, the object-deletion queue): the one
/// holding a session-level PostgreSQL advisory lock on a connection it keeps open. If that instance dies,
/// PostgreSQL ends its session and releases the lock, and the next instance to ask takes it over; there is
/// no lease to expire and no clock to trust. The lock needs a session of its own: behind a
/// transaction-pooling PgBouncer, ConnectionStrings:Jobs names a direct connection to PostgreSQL for it.
/// </summary>
public sealed class JobLeader(NpgsqlDataSource predictions, IConfiguration configuration, ILogger<JobLeader> logger) : IAsyncDisposable
{
    /// <summary>The connection string of the lock's session when the predictions' one goes through a transaction pooler.</summary>
    public const string ConnectionStringName = "Jobs";

    private readonly NpgsqlDataSource? _direct = configuration.GetConnectionString(ConnectionStringName) is { Length: > 0 } direct
        ? new NpgsqlDataSourceBuilder(direct) { Name = "jobs" }.Build()
        : null;

    // One lock for all periodic jobs: they move together to whichever instance holds it ("PredJobs").
    private const long LockKey = 0x5072_6564_4A6F_6273;

    private readonly SemaphoreSlim _gate = new(1, 1);
    private NpgsqlConnection? _held;

    /// <summary>True when this instance holds (or has just taken) the lock; asked before every run of a job.</summary>
    public async Task<bool> IsLeaderAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_held is not null)
            {
                try
                {
                    // A session that still answers still holds its lock.
                    await _held.ExecuteScalarAsync<int>(new CommandDefinition("SELECT 1", cancellationToken: cancellationToken));
                    return true;
                }
                catch (Exception e) when (e is NpgsqlException or TimeoutException)
                {
                    logger.LogWarning("Lost the lock of the periodic jobs ({Reason}); another instance may take them", e.Message);
                    await _held.DisposeAsync();
                    _held = null;
                }
            }

            var connection = await (_direct ?? predictions).OpenConnectionAsync(cancellationToken);
            if (await connection.ExecuteScalarAsync<bool>(new CommandDefinition("SELECT pg_try_advisory_lock(@LockKey)", new { LockKey }, cancellationToken: cancellationToken)))
            {
                _held = connection;
                logger.LogInformation("This instance now runs the periodic jobs (idempotency-key sweep, object deletions)");
                return true;
            }

            await connection.DisposeAsync();
            return false;
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_held is { } held)
        {
            try
            {
                // The connection goes back to the pool: it must not take the lock with it.
                await held.ExecuteAsync("SELECT pg_advisory_unlock_all()");
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException)
            {
                // A broken session has released its locks already.
            }

            await held.DisposeAsync();
        }

        _gate.Dispose();
        if (_direct is not null)
        {
            await _direct.DisposeAsync();
        }
    }
}
