using System.Text.Json;
using Dapper;
using Npgsql;
using PredictionApi.Auth;
using PredictionApi.Problems;

namespace PredictionApi.Predictions;

/// <summary>
/// Idempotency-Key support for both upload endpoints (table idempotency_keys). The key is claimed
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

    /// <summary>
    /// The request's Idempotency-Key as stored, or null without one; a malformed or repeated header is a 400. Keys belong
    /// to the API key that sent them: a client's key must neither replay another client's answer (with its prediction
    /// ids) nor be blocked by another's use of the same text. They are stored as "API key name, U+001F, key": the
    /// separator cannot occur in a key, so no two callers' keys meet (without API keys, the key is stored as it is).
    /// </summary>
    public static string? Read(HttpContext context)
    {
        // Read by hand: model binding would treat an empty header as no header at all.
        var header = context.Request.Headers[Header];
        var key = header.Count == 0 ? null : header.ToString();
        if (header.Count > 1 || key is not null && !IsValid(key))
        {
            throw new ProblemException(StatusCodes.Status400BadRequest, "Invalid idempotency key",
                $"The {Header} header must be 1 to 255 printable ASCII characters, such as a UUID.");
        }

        return key is not null && CallerKey.NameOf(context) is { } caller ? $"{caller}\u001f{key}" : key;
    }

    /// <summary>
    /// The stored answer of <paramref name="stored"/> for a retry, as <typeparamref name="T"/>, with Idempotent-Replayed: true;
    /// a 422 when the key was used for a request with other files or parameters, a 409 when a prediction it names was deleted since.
    /// </summary>
    public static T Replay<T>(HttpContext context, StoredAnswer stored, byte[] requestSha256, JsonSerializerOptions json)
    {
        if (!stored.RequestSha256.AsSpan().SequenceEqual(requestSha256))
        {
            throw new ProblemException(StatusCodes.Status422UnprocessableEntity, "Idempotency key reused",
                $"The {Header} was already used for a request with other files or parameters. Use a new key for a new request.");
        }

        if (stored.Deleted.Length > 0)
        {
            // A replay says the rows are stored; once one is deleted, that is no longer true, and storing the files again
            // would undo a delete the client may not know about. Nothing is stored either way.
            var ids = stored.Deleted.Split(',');
            var (noun, verb) = ids.Length == 1 ? ("prediction", "has") : ("predictions", "have");
            throw new ProblemException(StatusCodes.Status409Conflict, "Deleted since stored",
                $"The request with this {Header} was stored, but its {noun} {string.Join(", ", ids)} {verb} been deleted since, so its " +
                $"answer no longer describes stored data. Nothing was stored now. To store the files again, send them with a new {Header}.");
        }

        context.Response.Headers[ReplayedHeader] = "true";
        return JsonSerializer.Deserialize<T>(stored.Response, json)!;
    }

    /// <summary>
    /// Before a model is taken: with a key, reads the upload (<paramref name="read"/>) and, when the key has a stored answer,
    /// replays it as <typeparamref name="T"/>. A retry of a stored request so costs one lookup, not a second round of inference,
    /// and needs no model: the version that answered may have been unloaded since, and a retry told "not loaded" would be sent
    /// again under a new key. Without a key nothing is read yet (the caller reads once it has a model); an upload for which
    /// <paramref name="replays"/> is false is returned unanswered, for the caller to refuse.
    /// </summary>
    public static async Task<(UploadedFiles? Upload, T? Replayed)> ReplayEarlierAsync<T>(
        HttpContext context,
        string? key,
        Func<Task<UploadedFiles>> read,
        Func<UploadedFiles, bool> replays,
        NpgsqlDataSource dataSource,
        int hours,
        JsonSerializerOptions json,
        CancellationToken cancellationToken)
        where T : class
    {
        if (key is null)
        {
            return (null, null);
        }

        var upload = await read();
        return replays(upload) && await FindAsync(dataSource, key, hours, cancellationToken) is { } earlier
            ? (upload, Replay<T>(context, earlier, upload.RequestSha256, json))
            : (upload, null);
    }

    /// <summary>The stored answer for <paramref name="key"/>, read on a connection of its own.</summary>
    public static async Task<StoredAnswer?> FindAsync(NpgsqlDataSource dataSource, string key, int hours, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await FindAsync(connection, key, hours, cancellationToken);
    }

    /// <summary>The stored answer for <paramref name="key"/>, unless there is none or it is older than <paramref name="hours"/>.</summary>
    public static async Task<StoredAnswer?> FindAsync(NpgsqlConnection connection, string key, int hours, CancellationToken cancellationToken)
    {
        const string sql = """
            SELECT request_sha256 AS RequestSha256, response::text AS Response,
                   (SELECT coalesce(string_agg(id::text, ',' ORDER BY id), '')
                    FROM (SELECT (item ->> 'prediction_id')::bigint AS id
                          FROM jsonb_array_elements(CASE WHEN jsonb_typeof(response) = 'array' THEN response ELSE jsonb_build_array(response) END) AS item
                          WHERE item ->> 'prediction_id' IS NOT NULL) AS named
                    WHERE NOT EXISTS (SELECT 1 FROM predictions p WHERE p.id = named.id)) AS Deleted
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
