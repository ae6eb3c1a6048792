using Dapper;
using Npgsql;

namespace PredictionApi.Storage;

/// <summary>
/// Applies db/schema.sql (embedded in the assembly). The whole file runs in one transaction holding a
/// transaction-scoped advisory lock, so instances starting together apply it one at a time and each
/// sees either none or all of it; the statements are idempotent, so applying it again changes nothing.
/// A schema already applied (its sha256 is in schema_applied) is not run again: its DDL would take
/// table locks that deadlock with the writes of the replicas already serving.
/// </summary>
public static class SchemaMigrator
{
    // Arbitrary but fixed: every instance of this service must take the same lock.
    private const long LockKey = 0x5072656469637431; // "Predict1"

    public static string Schema { get; } = ReadSchema();

    private static readonly byte[] Sha256 = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(Schema));

    public static async Task ApplyAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        const string lockSql = """SELECT pg_advisory_xact_lock(@LockKey)""";
        await connection.ExecuteAsync(new CommandDefinition(lockSql, new { LockKey }, transaction, cancellationToken: cancellationToken));
        const string appliedSql = """
            CREATE TABLE IF NOT EXISTS schema_applied (sha256 bytea PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());
            SELECT EXISTS (SELECT 1 FROM schema_applied WHERE sha256 = @Sha256);
            """;
        if (!await connection.ExecuteScalarAsync<bool>(new CommandDefinition(appliedSql, new { Sha256 }, transaction, cancellationToken: cancellationToken)))
        {
            await connection.ExecuteAsync(new CommandDefinition(Schema, transaction: transaction, cancellationToken: cancellationToken));
            await connection.ExecuteAsync(new CommandDefinition("INSERT INTO schema_applied (sha256) VALUES (@Sha256)", new { Sha256 }, transaction, cancellationToken: cancellationToken));
        }

        await transaction.CommitAsync(cancellationToken);
    }

    private static string ReadSchema()
    {
        using var stream = typeof(SchemaMigrator).Assembly.GetManifestResourceStream("PredictionApi.schema.sql")
            ?? throw new InvalidOperationException("The embedded schema is missing from the build.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
