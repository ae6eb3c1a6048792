using Dapper;
using Npgsql;
using PredictionApi.Observability;

namespace PredictionApi.Storage;

/// <summary>A PostgreSQL outage, logged when it starts, while it lasts and when it ends (see <see cref="OutageLog"/>).</summary>
internal sealed class DatabaseOutage(NpgsqlDataSource dataSource, ILogger<DatabaseOutage> logger) : OutageLog("PostgreSQL", logger)
{
    protected override async Task<bool> AnswersAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            await using var connection = await dataSource.OpenConnectionAsync(timeout.Token);
            // Answering is not enough: a read-only database (25006 on every write) is an outage of the uploads until it takes writes.
            return await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
                "SELECT current_setting('transaction_read_only') = 'off'", cancellationToken: timeout.Token));
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return false;
        }
    }

    /// <summary>The SQL state and message, or the socket error under a broken connection.</summary>
    protected override string Describe(Exception e) => e is PostgresException pg ? $"{pg.SqlState}: {pg.MessageText}" : base.Describe(e);
}
