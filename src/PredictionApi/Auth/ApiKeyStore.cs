using Dapper;
using Npgsql;

namespace PredictionApi.Auth;

/// <summary>The api_keys table: creating, listing and revoking keys (the keys command), and finding one by its hash (every request).</summary>
public sealed class ApiKeyStore(NpgsqlDataSource dataSource)
{
    // In the order of KeyRow's constructor, which Dapper follows; the scopes as text, since Dapper matches constructors by exact type.
    private const string Columns = """
        id AS Id, name AS Name, array_to_string(scopes, ',') AS Scopes, requests_per_minute AS RequestsPerMinute, created_at AS CreatedAt,
        last_used_at AS LastUsedAt, expires_at AS ExpiresAt, revoked_at AS RevokedAt, key_sha256 AS Hash
        """;

    /// <summary>Stores a new key's hash; returns the row and the key, or null when an active key already has the name.</summary>
    public async Task<(ApiKey Row, string Key)?> CreateAsync(string name, string[] scopes, DateTime? expiresAt, int? requestsPerMinute, CancellationToken cancellationToken)
    {
        const string sql = $"""
            INSERT INTO api_keys (name, key_sha256, scopes, requests_per_minute, expires_at)
            VALUES (@name, @hash, @scopes, @requestsPerMinute, @expiresAt)
            ON CONFLICT (name) WHERE revoked_at IS NULL DO NOTHING
            RETURNING {Columns}
            """;
        var key = ApiKeyTokens.New();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<KeyRow>(new CommandDefinition(sql,
            new { name, hash = ApiKeyTokens.Hash(key), scopes, requestsPerMinute, expiresAt }, cancellationToken: cancellationToken));
        return row is null ? null : (row.Key, key);
    }

    /// <summary>Every key, revoked ones too, oldest first.</summary>
    public async Task<IReadOnlyList<ApiKey>> ListAsync(CancellationToken cancellationToken)
    {
        const string sql = $"SELECT {Columns} FROM api_keys ORDER BY created_at, id";
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return (await connection.QueryAsync<KeyRow>(new CommandDefinition(sql, cancellationToken: cancellationToken))).Select(r => r.Key).ToList();
    }

    /// <summary>Revokes the active key with this name; false when there is none.</summary>
    public async Task<bool> RevokeAsync(string name, CancellationToken cancellationToken)
    {
        const string sql = "UPDATE api_keys SET revoked_at = now() WHERE name = @name AND revoked_at IS NULL";
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteAsync(new CommandDefinition(sql, new { name }, cancellationToken: cancellationToken)) > 0;
    }

    /// <summary>The key whose hash is <paramref name="hash"/> (revoked and expired ones too), with its stored hash.</summary>
    public async Task<(ApiKey Row, byte[] Hash)?> FindAsync(byte[] hash, CancellationToken cancellationToken)
    {
        const string sql = $"SELECT {Columns} FROM api_keys WHERE key_sha256 = @hash";
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var found = await connection.QuerySingleOrDefaultAsync<KeyRow>(new CommandDefinition(sql, new { hash }, cancellationToken: cancellationToken));
        return found is null ? null : (found.Key, found.Hash);
    }

    /// <summary>Whether any key was ever created: from then on, keys are required.</summary>
    public async Task<bool> AnyAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<bool>(new CommandDefinition("SELECT EXISTS (SELECT 1 FROM api_keys)", cancellationToken: cancellationToken));
    }

    /// <summary>Records a use; never moves last_used_at backwards when two instances write it.</summary>
    public async Task TouchAsync(long id, DateTime usedAt, CancellationToken cancellationToken)
    {
        const string sql = "UPDATE api_keys SET last_used_at = @usedAt WHERE id = @id AND (last_used_at IS NULL OR last_used_at < @usedAt)";
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(sql, new { id, usedAt }, cancellationToken: cancellationToken));
    }

    private sealed record KeyRow(long Id, string Name, string Scopes, int? RequestsPerMinute, DateTime CreatedAt, DateTime? LastUsedAt,
        DateTime? ExpiresAt, DateTime? RevokedAt, byte[] Hash)
    {
        public ApiKey Key => new(Id, Name, Scopes.Split(','), RequestsPerMinute, CreatedAt, LastUsedAt, ExpiresAt, RevokedAt);
    }
}
