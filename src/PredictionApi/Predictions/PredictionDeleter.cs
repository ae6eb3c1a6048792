using System.Diagnostics;
using Dapper;
using Npgsql;
using PredictionApi.Problems;
using PredictionApi.Storage.InputStores;

namespace PredictionApi.Predictions;

/// <summary>
/// Deletes predictions, and with them every input no other prediction uses, in one transaction per
/// prediction (or per chunk). Objects of deleted inputs are queued in the same transaction
/// (<see cref="ObjectDeletions"/>) and deleted after the commit, so a failed object delete never
/// leaves the database half-deleted, and is retried until it succeeds.
/// </summary>
public sealed class PredictionDeleter(NpgsqlDataSource dataSource, ObjectDeletions objects)
{
    /// <summary>
    /// One chunk of a retention delete, oldest first after (<c>afterCreatedAt</c>, <c>afterId</c>), the last row of the
    /// chunk before; returns the deleted predictions' input ids and keys. It walks predictions_newest backwards, applying
    /// the confidence filter on the way. Starting after the previous chunk matters: the rows deleted so far stay in the
    /// index until vacuum, and a walk from the oldest row stepped over all of them again for every chunk.
    /// </summary>
    internal const string ChunkSql = """
        SELECT input_id AS InputId, created_at AS CreatedAt, id AS Id FROM predictions
        WHERE created_at < @before AND (created_at, id) > (@afterCreatedAt, @afterId)
          AND (@maxConfidence::real IS NULL OR confidence <= @maxConfidence::real)
        ORDER BY created_at, id
        LIMIT @chunkSize
        """;

    /// <summary>Deletes a chunk's predictions, once their inputs are locked; one deleted since is skipped.</summary>
    private const string DeleteChunkSql = """
        DELETE FROM predictions WHERE id = ANY(@ids) RETURNING input_id
        """;

    /// <summary>
    /// Locks inputs before any of their predictions is deleted, as every writer of an existing input's predictions
    /// does (a label change, another model's or a shadow's prediction): the delete then waits for such a writer or
    /// the writer for it. Deleting first left a window in which another model's prediction, still seeing the
    /// deleted one, paired with it for good, or waited for the delete's pair lock while the delete waited for its input.
    /// </summary>
    private const string LockInputsSql = """SELECT id FROM inputs WHERE id = ANY(@inputIds) ORDER BY id FOR UPDATE""";

    /// <summary>Where a walk from the oldest row starts: DateTime.MinValue is -infinity to Npgsql.</summary>
    private static readonly DateTime BeforeOldest = DateTime.SpecifyKind(DateTime.MinValue, DateTimeKind.Utc);

    /// <summary>Deletes one prediction; false when there is no such prediction.</summary>
    public async Task<bool> DeleteAsync(long predictionId, CancellationToken cancellationToken)
    {
        const string lockSql = """
            SELECT id FROM inputs WHERE id = (SELECT input_id FROM predictions WHERE id = @predictionId) FOR UPDATE
            """;
        const string sql = """DELETE FROM predictions WHERE id = @predictionId RETURNING input_id""";
        string[] queued;
        await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken))
        await using (var transaction = await connection.BeginTransactionAsync(cancellationToken))
        {
            await connection.ExecuteAsync(new CommandDefinition(lockSql, new { predictionId }, transaction, cancellationToken: cancellationToken));
            var inputIds = (await connection.QueryAsync<long>(new CommandDefinition(sql, new { predictionId }, transaction, cancellationToken: cancellationToken))).ToArray();
            if (inputIds.Length == 0)
            {
                return false;
            }

            (_, queued) = await DeleteUnusedInputsAsync(connection, inputIds, cancellationToken);
            await CommitStep.RunAsync(() => transaction.CommitAsync(cancellationToken),
                "The connection to the prediction database broke while the service waited for it to confirm the delete, so the " +
                "prediction may or may not have been deleted. Repeating the DELETE is safe: a 404 then means it was.");
        }

        // After the commit: the rows are gone whatever happens to the objects now.
        await objects.TryDeleteNowAsync(queued, CancellationToken.None);
        return true;
    }

    /// <summary>
    /// Deletes every prediction created before <paramref name="before"/> (with a confidence of at most
    /// <paramref name="maxConfidence"/> when given), oldest first, <paramref name="chunkSize"/> rows per
    /// transaction, so no lock is held for long and a cancelled request keeps the chunks it finished; after
    /// each chunk it waits <paramref name="pausePercent"/> % of the time the chunk took.
    /// </summary>
    public async Task<DeletedPredictions> DeleteBeforeAsync(DateTime before, float? maxConfidence, int chunkSize, int pausePercent, CancellationToken cancellationToken)
    {
        long deleted = 0, inputsDeleted = 0;
        var (afterCreatedAt, afterId) = (BeforeOldest, 0L);
        var sweptAgain = false;
        var committing = false;
        try
        {
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                DeletedRow[] rows;
                var deletedNow = 0;
                var started = Stopwatch.GetTimestamp();
                await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken))
                await using (var transaction = await connection.BeginTransactionAsync(cancellationToken))
                {
                    rows = (await connection.QueryAsync<DeletedRow>(new CommandDefinition(ChunkSql,
                        new { before, maxConfidence, chunkSize, afterCreatedAt, afterId }, transaction, cancellationToken: cancellationToken))).ToArray();
                    var chunkInputs = rows.Select(r => r.InputId).Distinct().ToArray();
                    await connection.ExecuteAsync(new CommandDefinition(LockInputsSql, new { inputIds = chunkInputs }, transaction, cancellationToken: cancellationToken));
                    // The walk goes on from the rows chosen; those a concurrent delete removed meanwhile are simply not counted.
                    var gone = (await connection.QueryAsync<long>(new CommandDefinition(DeleteChunkSql,
                        new { ids = rows.Select(r => r.Id).ToArray() }, transaction, cancellationToken: cancellationToken))).ToArray();
                    deletedNow = gone.Length;
                    var (inputs, queued) = await DeleteUnusedInputsAsync(connection, gone.Distinct().ToArray(), cancellationToken);
                    committing = true;
                    await transaction.CommitAsync(cancellationToken);
                    committing = false;
                    inputsDeleted += inputs;
                    if (queued.Length > 0)
                    {
                        objects.Wake();
                    }
                }

                deleted += deletedNow;
                if (pausePercent > 0 && rows.Length == chunkSize)
                {
                    // Deleting flat out took a whole core and doubled the uploads' p99 on two cores (bench/scale.sh).
                    await Task.Delay(Stopwatch.GetElapsedTime(started) * (pausePercent / 100.0), cancellationToken);
                }

                if (rows.Length > 0)
                {
                    var last = rows.MaxBy(r => (r.CreatedAt, r.Id))!;
                    (afterCreatedAt, afterId) = (last.CreatedAt, last.Id);
                }

                if (rows.Length < chunkSize)
                {
                    if (!sweptAgain)
                    {
                        // A transaction that began before the walk passed its time may have committed an older row behind it:
                        // one more walk from the oldest row finds it (and steps over the deleted rows once).
                        sweptAgain = true;
                        (afterCreatedAt, afterId) = (BeforeOldest, 0L);
                        continue;
                    }

                    await DeleteEmptiedCountsAsync(before, cancellationToken);
                    return new DeletedPredictions(deleted, inputsDeleted);
                }
            }
        }
        // 57014 (a statement_timeout or a cancel) is not transient to Npgsql, but the exception handler answers it as an outage.
        catch (Exception e) when (e is NpgsqlException { IsTransient: true } or PostgresException { SqlState: PostgresErrorCodes.QueryCanceled }
                                  or TimeoutException && !cancellationToken.IsCancellationRequested
                                  && (deleted > 0 || committing))
        {
            // Nothing committed and no commit cut off: the exception handler's "nothing was changed" is the whole truth then.
            throw Interrupted(deleted, inputsDeleted, committing && e is NpgsqlException npgsql && CommitStep.IsBrokenConnection(npgsql), e);
        }
    }

    /// <summary>
    /// A retention delete the database stopped partway: the chunks committed before stay deleted, and the caller is told
    /// how many, rather than "nothing was changed". Repeating the request deletes the rest.
    /// </summary>
    private static ProblemException Interrupted(long deleted, long inputsDeleted, bool duringCommit, Exception cause)
    {
        var inProgress = duringCommit
            ? "the connection broke while the last chunk's commit was awaited, so its predictions may or may not have been deleted"
            : "the chunk in progress was rolled back";
        return new ProblemException(StatusCodes.Status503ServiceUnavailable, "Partly deleted",
            $"The prediction database failed during the delete. {deleted} predictions ({inputsDeleted} inputs) had been deleted " +
            $"in the chunks committed before; {inProgress}; the rest are still stored. Repeat the request to delete the rest.", cause);
    }

    /// <summary>
    /// Drops the statistics' groups that retention emptied (count 0) before <paramref name="before"/>, so that statistics over
    /// everything do not read months of empty groups. The groups are locked in key order, the order in which the triggers
    /// lock them, so a concurrent write that brings one back waits or wins instead of deadlocking; a group written again
    /// in the meantime has a count again and stays.
    /// </summary>
    private async Task DeleteEmptiedCountsAsync(DateTime before, CancellationToken cancellationToken)
    {
        const string sql = """
            WITH emptied AS (
                SELECT model_name, span, bucket_start, likely_class, bin, true_label FROM prediction_counts
                WHERE count = 0 AND bucket_start < @before
                ORDER BY model_name, span, bucket_start, likely_class, bin, true_label
                FOR UPDATE
            )
            DELETE FROM prediction_counts c USING emptied e
            WHERE (c.model_name, c.span, c.bucket_start, c.likely_class, c.bin) = (e.model_name, e.span, e.bucket_start, e.likely_class, e.bin)
              AND c.true_label IS NOT DISTINCT FROM e.true_label AND c.count = 0
            """;
        // The comparison's counts (GET /models/compare) in the same way; they are bucketed by the input's time, which
        // is never later than its predictions'.
        const string pairsSql = """
            WITH emptied AS (
                SELECT a_name, b_name, span, bucket_start, a_version, b_version, a_class, b_class, true_label FROM prediction_pair_counts
                WHERE count = 0 AND bucket_start < @before
                ORDER BY a_name, b_name, span, bucket_start, a_version, b_version, a_class, b_class, true_label
                FOR UPDATE
            )
            DELETE FROM prediction_pair_counts c USING emptied e
            WHERE (c.a_name, c.b_name, c.span, c.bucket_start, c.a_version, c.b_version, c.a_class, c.b_class)
                  = (e.a_name, e.b_name, e.span, e.bucket_start, e.a_version, e.b_version, e.a_class, e.b_class)
              AND c.true_label IS NOT DISTINCT FROM e.true_label AND c.count = 0
            """;
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(sql, new { before }, cancellationToken: cancellationToken));
        await connection.ExecuteAsync(new CommandDefinition(pairsSql, new { before }, cancellationToken: cancellationToken));
    }

    /// <summary>
    /// In the caller's transaction, after predictions were deleted: deletes those of <paramref name="inputIds"/>
    /// that no prediction uses any more and queues their objects. Returns the inputs deleted and the keys queued.
    /// </summary>
    private static async Task<(int Inputs, string[] Queued)> DeleteUnusedInputsAsync(NpgsqlConnection connection, long[] inputIds, CancellationToken cancellationToken)
    {
        if (inputIds.Length == 0)
        {
            return (0, []);
        }

        // The callers locked the inputs before deleting their predictions, so a concurrent "add a prediction to this
        // input" either committed before (and the check below sees it) or waits and fails on the foreign key.
        const string deleteSql = """
            DELETE FROM inputs i
            WHERE i.id = ANY(@inputIds) AND NOT EXISTS (SELECT 1 FROM predictions p WHERE p.input_id = i.id)
            RETURNING i.object_key
            """;
        var keys = (await connection.QueryAsync<string?>(new CommandDefinition(deleteSql, new { inputIds }, cancellationToken: cancellationToken))).ToList();
        var queued = await ObjectDeletions.EnqueueUnreferencedAsync(connection, keys.OfType<string>().Distinct().ToArray(), cancellationToken);
        return (keys.Count, queued);
    }
}
