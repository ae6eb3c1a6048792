using Dapper;
using Npgsql;

namespace PredictionApi.Storage;

/// <summary>
/// Whether PostgreSQL takes writes now: readiness and the outage log ask the same question. Answering is not enough: a
/// standby (after a failover that left the service on the old primary's replica) or a database set read-only answers
/// reads and refuses every upload with 25006.
/// </summary>
internal static class DatabaseProbe
{
    /// <summary>True when it takes writes, false when it is read-only; throws (NpgsqlException, a timeout or a cancel after 5 s) when it does not answer.</summary>
    public static async Task<bool> AcceptsWritesAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(5));
        await using var connection = await dataSource.OpenConnectionAsync(timeout.Token);
        return await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
            "SELECT current_setting('transaction_read_only') = 'off'", cancellationToken: timeout.Token));
    }
}
