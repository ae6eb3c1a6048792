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
            // Until writes are taken again, a read-only database is an outage of the uploads.
            return await DatabaseProbe.AcceptsWritesAsync(dataSource, cancellationToken);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return false;
        }
    }

    /// <summary>The SQL state and message, or the socket error under a broken connection.</summary>
    protected override string Describe(Exception e) => e is PostgresException pg ? $"{pg.SqlState}: {pg.MessageText}" : base.Describe(e);
}
