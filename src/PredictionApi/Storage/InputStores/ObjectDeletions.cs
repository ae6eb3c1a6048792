using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;

namespace PredictionApi.Storage.InputStores;

/// <summary>
/// The outbox of object deletes (table object_deletions). A delete of input rows enqueues the keys
/// nobody references any more in its own transaction; after the commit the objects are deleted and
/// their outbox rows removed. A failed delete leaves the row with a later next_attempt_at, and
/// <see cref="ObjectDeletionWorker"/> retries it with exponential backoff. Before deleting, the key is
/// locked and checked again: an upload of the same bytes may have referenced it since.
/// </summary>
public sealed class ObjectDeletions(
    NpgsqlDataSource dataSource,
    IInputStore store,
    IOptions<ObjectStorageOptions> options,
    ILogger<ObjectDeletions> logger)
{
    private readonly SemaphoreSlim _wake = new(0, 1);

    /// <summary>Whether this service can delete objects (object storage is configured).</summary>
    public bool Active => store.Kind == StorageKinds.Object;

    /// <summary>
    /// Inside the deleting transaction, after the input rows are deleted: queues the keys that no
    /// remaining input references. Returns the keys queued.
    /// </summary>
    public static async Task<string[]> EnqueueUnreferencedAsync(NpgsqlConnection connection, IReadOnlyCollection<string> keys, CancellationToken cancellationToken)
    {
        if (keys.Count == 0)
        {
            return [];
        }

        const string sql = """
            INSERT INTO object_deletions (object_key)
            SELECT DISTINCT k FROM unnest(@Keys) AS k
            WHERE NOT EXISTS (SELECT 1 FROM inputs i WHERE i.object_key = k)
            ON CONFLICT (object_key) DO UPDATE SET next_attempt_at = now()
            RETURNING object_key
            """;
        var queued = await connection.QueryAsync<string>(new CommandDefinition(sql, new { Keys = keys.ToArray() }, cancellationToken: cancellationToken));
        return queued.ToArray();
    }

    /// <summary>Tries to delete freshly queued objects now; whatever fails stays queued for the worker.</summary>
    /// <summary>How long a request waits for its objects' deletion after its commit; the worker retries the rest.</summary>
    private static readonly TimeSpan ImmediateDeleteBound = TimeSpan.FromSeconds(3);

    public async Task TryDeleteNowAsync(IEnumerable<string> keys, CancellationToken cancellationToken)
    {
        if (!Active)
        {
            return;
        }

        // The caller's change is committed: a store or database that does not answer now must neither fail it nor hold
        // it up. What is not deleted within the bound stays queued for the worker.
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bound.CancelAfter(ImmediateDeleteBound);
        var failed = false;
        foreach (var key in keys)
        {
            try
            {
                failed |= !await DeleteQueuedAsync(key, bound.Token);
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                logger.LogWarning("Deleting object {Key} now failed ({Reason}); it stays queued for a retry", key, e.GetBaseException().Message);
                failed = true;
            }
        }

        if (failed)
        {
            // The worker may be idle until its next poll; it should plan the retry now.
            Wake();
        }
    }

    /// <summary>Asks the worker to look at the queue now rather than at its next poll.</summary>
    public void Wake()
    {
        try
        {
            _wake.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already signalled.
        }
    }

    internal Task<bool> WaitForWorkAsync(TimeSpan timeout, CancellationToken cancellationToken) => _wake.WaitAsync(timeout, cancellationToken);

    /// <summary>Deletes every object whose retry time has come; returns how many rows were handled.</summary>
    public async Task<int> ProcessDueAsync(CancellationToken cancellationToken)
    {
        const string sql = """
            SELECT object_key FROM object_deletions
            WHERE next_attempt_at <= now()
            ORDER BY next_attempt_at
            LIMIT 100
            """;
        var handled = 0;
        while (true)
        {
            string[] due;
            await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken))
            {
                due = (await connection.QueryAsync<string>(new CommandDefinition(sql, cancellationToken: cancellationToken))).ToArray();
            }

            var deleted = 0;
            foreach (var key in due)
            {
                deleted += await DeleteQueuedAsync(key, cancellationToken) ? 1 : 0;
            }

            handled += due.Length;
            // Rows that failed again are no longer due; stop when a round made no progress.
            if (due.Length < 100 || deleted == 0)
            {
                return handled;
            }
        }
    }

    /// <summary>Seconds until the next queued delete is due, or null when the queue is empty.</summary>
    public async Task<double?> SecondsUntilNextAsync(CancellationToken cancellationToken)
    {
        const string sql = """SELECT EXTRACT(EPOCH FROM min(next_attempt_at) - now())::float8 FROM object_deletions""";
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<double?>(new CommandDefinition(sql, cancellationToken: cancellationToken));
    }

    /// <summary>
    /// Handles one queued key in its own transaction: skipped when another instance holds it; dropped
    /// without deleting when an input references the key again; otherwise the object is deleted and the
    /// row removed, or on failure the row is kept with a later retry time. True when the row is gone.
    /// </summary>
    private async Task<bool> DeleteQueuedAsync(string key, CancellationToken cancellationToken)
    {
        const string claimSql = """SELECT attempts FROM object_deletions WHERE object_key = @Key FOR UPDATE SKIP LOCKED""";
        const string referencedSql = """SELECT EXISTS (SELECT 1 FROM inputs WHERE object_key = @Key)""";
        const string doneSql = """DELETE FROM object_deletions WHERE object_key = @Key""";
        const string failedSql = """
            UPDATE object_deletions
            SET attempts = attempts + 1, last_error = @Error, next_attempt_at = now() + make_interval(secs => @DelaySeconds)
            WHERE object_key = @Key
            """;

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var attempts = await connection.QuerySingleOrDefaultAsync<int?>(new CommandDefinition(claimSql, new { Key = key }, transaction, cancellationToken: cancellationToken));
        if (attempts is null)
        {
            return false;
        }

        // Waits for uploads of the same bytes that have put the object but not committed their row yet.
        await ObjectKeyLock.AcquireExclusiveAsync(connection, key, cancellationToken);
        var referenced = await connection.ExecuteScalarAsync<bool>(new CommandDefinition(referencedSql, new { Key = key }, transaction, cancellationToken: cancellationToken));
        if (!referenced)
        {
            try
            {
                await store.DeleteObjectAsync(key, cancellationToken);
                logger.LogInformation("Deleted object {Key}", key);
            }
            catch (Exception e) when (S3Clients.IsStoreFailure(e) && !cancellationToken.IsCancellationRequested)
            {
                var delay = Math.Min(Math.Pow(2, Math.Min(attempts.Value, 20)), options.Value.DeletionRetryMaxSeconds);
                var reason = S3Clients.Describe(e);
                logger.LogWarning("Deleting object {Key} failed (attempt {Attempt}): {Reason}; retrying in {Delay} s", key, attempts.Value + 1, reason, delay);
                await connection.ExecuteAsync(new CommandDefinition(failedSql, new { Key = key, Error = reason, DelaySeconds = delay }, transaction, cancellationToken: cancellationToken));
                await transaction.CommitAsync(cancellationToken);
                return false;
            }
        }

        await connection.ExecuteAsync(new CommandDefinition(doneSql, new { Key = key }, transaction, cancellationToken: cancellationToken));
        await transaction.CommitAsync(cancellationToken);
        return true;
    }
}
