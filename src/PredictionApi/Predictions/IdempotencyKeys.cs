using Dapper;
using Npgsql;

namespace PredictionApi.Predictions;

/// <summary>
/// Idempotency-Key support for POST /predictions/batch (table idempotency_keys). The key is claimed
/// inside the transaction that stores the batch and its answer is written in that same transaction,
/// so a key either has its complete answer or does not exist. A concurrent request with the same key
/// waits on the claim (PostgreSQL's unique index) and then replays the first answer.
/// </summary>
public static class IdempotencyKeys
{
    public const string Header = "Idempotency-Key";

    public const string ReplayedHeader = "Idempotent-Replayed";

    /// <summary>Keys are 1 to 255 printable ASCII characters, for example a UUID.</summary>
    public static bool IsValid(string key) => key.Length is >= 1 and <= 255 && key.All(c => c is >= ' ' and <= '~');

    /// <summary>The stored answer for <paramref name="key"/>, unless there is none or it is older than <paramref name="hours"/>.</summary>
    public static async Task<StoredAnswer?> FindAsync(NpgsqlConnection connection, string key, int hours, CancellationToken cancellationToken)
    {
        const string sql = """
            SELECT request_sha256 AS RequestSha256, response::text AS Response
            FROM idempotency_keys
            WHERE key = @key AND response IS NOT NULL AND created_at >= now() - make_interval(hours => @hours)
            """;
        return await connection.QuerySingleOrDefaultAsync<StoredAnswer>(new CommandDefinition(sql, new { key, hours }, cancellationToken: cancellationToken));
    }

    /// <summary>
    /// In the storing transaction: claims <paramref name="key"/> (an expired claim is replaced). False when
    /// another request holds a live answer for it; the caller then rolls back and replays that answer.
    /// Blocks while another open transaction is claiming the same key.
    /// </summary>
    public static async Task<bool> ClaimAsync(NpgsqlConnection connection, string key, byte[] requestSha256, int hours, CancellationToken cancellationToken)
    {
        const string expireSql = """DELETE FROM idempotency_keys WHERE key = @key AND created_at < now() - make_interval(hours => @hours)""";
        const string claimSql = """
            INSERT INTO idempotency_keys (key, request_sha256) VALUES (@key, @requestSha256)
            ON CONFLICT (key) DO NOTHING
            RETURNING true
            """;
        await connection.ExecuteAsync(new CommandDefinition(expireSql, new { key, hours }, cancellationToken: cancellationToken));
        return await connection.QuerySingleOrDefaultAsync<bool>(new CommandDefinition(claimSql, new { key, requestSha256 }, cancellationToken: cancellationToken));
    }

    /// <summary>In the storing transaction, after the batch rows: the answer a retry will get.</summary>
    public static Task CompleteAsync(NpgsqlConnection connection, string key, string responseJson, CancellationToken cancellationToken)
    {
        const string sql = """UPDATE idempotency_keys SET response = @responseJson::jsonb WHERE key = @key""";
        return connection.ExecuteAsync(new CommandDefinition(sql, new { key, responseJson }, cancellationToken: cancellationToken));
    }

    /// <summary>Deletes answers older than <paramref name="hours"/>; returns how many.</summary>
    public static async Task<int> DeleteExpiredAsync(NpgsqlDataSource dataSource, int hours, CancellationToken cancellationToken)
    {
        const string sql = """DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(hours => @hours)""";
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteAsync(new CommandDefinition(sql, new { hours }, cancellationToken: cancellationToken));
    }
}
