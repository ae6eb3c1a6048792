using System.Security.Cryptography;
using System.Text.Json;
using Dapper;
using Npgsql;
using PredictionApi.Problems;
using PredictionApi.Storage.InputStores;

namespace PredictionApi.Predictions;

/// <summary>
/// Writes inputs with their predictions, wherever the <see cref="IInputStore"/> keeps the bytes: first
/// the bytes (an object put), then the rows, in one transaction. If the rows fail the object is an
/// unreferenced leftover, which is harmless; a row pointing at missing bytes cannot happen.
/// Used by POST /prediction, POST /predictions/batch and the predict command.
/// </summary>
public sealed class PredictionWriter(NpgsqlDataSource dataSource, IInputStore inputs)
{
    /// <summary>Stores one input and its prediction; returns once both are committed.</summary>
    public async Task<StoredIds> RecordAsync(RecordedUpload upload, NewPrediction prediction, CancellationToken cancellationToken) =>
        (await RecordAsync([(upload, prediction)], null, cancellationToken)).Stored[0];

    /// <summary>
    /// Stores inputs with their predictions in one transaction, with the answer for <paramref name="claim"/>'s
    /// Idempotency-Key when there is one; returns once they are committed. When another request already
    /// holds the key, nothing is stored and its answer is returned instead (or a 409 while it is in progress).
    /// </summary>
    public async Task<RecordOutcome> RecordAsync(IReadOnlyList<(RecordedUpload Upload, NewPrediction Prediction)> items, IdempotencyClaim? claim, CancellationToken cancellationToken)
    {
        if (items.Count == 0 && claim is null)
        {
            return new RecordOutcome([], null);
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        if (items.Count == 1 && claim is null && inputs.Kind == StorageKinds.Database)
        {
            // Bytes and rows go in one INSERT statement, which is a transaction of its own: one round trip.
            var (upload, prediction) = items[0];
            return new RecordOutcome([await CommitStep.RunAsync(() => RecordAsync(connection, upload, prediction, cancellationToken))], null);
        }

        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        if (claim is not null && !await IdempotencyKeys.ClaimAsync(connection, claim.Key, claim.RequestSha256, claim.Hours, cancellationToken))
        {
            // A concurrent request with this key finished first; nothing of ours is stored.
            await transaction.RollbackAsync(cancellationToken);
            return new RecordOutcome([], await IdempotencyKeys.FindAsync(connection, claim.Key, claim.Hours, cancellationToken)
                ?? throw new ProblemException(StatusCodes.Status409Conflict, "Idempotency key in use",
                    $"Another request with {IdempotencyKeys.Header} '{claim.Key}' is in progress; retry shortly."));
        }

        var ids = new List<StoredIds>(items.Count);
        foreach (var (upload, prediction) in items)
        {
            ids.Add(await RecordAsync(connection, upload, prediction, cancellationToken));
        }

        if (claim is not null)
        {
            await IdempotencyKeys.CompleteAsync(connection, claim.Key, claim.Answer(ids), cancellationToken);
        }

        await CommitStep.RunAsync(async () => { await transaction.CommitAsync(cancellationToken); return 0; });
        return new RecordOutcome(ids, null);
    }

    /// <summary>Stores one input and its prediction inside the caller's open transaction on <paramref name="connection"/>.</summary>
    public async Task<StoredIds> RecordAsync(NpgsqlConnection connection, RecordedUpload upload, NewPrediction prediction, CancellationToken cancellationToken)
    {
        var sha256 = SHA256.HashData(upload.Bytes.Span);
        var payload = await inputs.PutAsync(connection, upload.Bytes, sha256, upload.Header.ContentType, cancellationToken);
        // The input exists only if its prediction does: one statement inserts both.
        const string sql = """
            WITH input AS (
                INSERT INTO inputs (filename, content_type, data, sha256, byte_size, width, height, storage_kind, object_key)
                VALUES (@Filename, @ContentType, @Data, @Sha256, @ByteSize, @Width, @Height, @StorageKind, @ObjectKey)
                RETURNING id
            )
            """ + InsertPrediction;
        return await connection.QuerySingleAsync<StoredIds>(new CommandDefinition(sql, Parameters(prediction, new
        {
            Filename = upload.FileName,
            upload.Header.ContentType,
            payload.Data,
            Sha256 = sha256,
            ByteSize = upload.Bytes.Length,
            upload.Header.Width,
            upload.Header.Height,
            payload.StorageKind,
            payload.ObjectKey,
        }), cancellationToken: cancellationToken));
    }

    /// <summary>Adds a prediction to an input that is already stored (a new model labelling known bytes).</summary>
    public static Task<StoredIds> RecordForInputAsync(NpgsqlConnection connection, long inputId, NewPrediction prediction, CancellationToken cancellationToken)
    {
        // The foreign key refuses an input that was deleted in the meantime.
        const string sql = "WITH input AS (SELECT @InputId::bigint AS id)\n" + InsertPrediction;
        return connection.QuerySingleAsync<StoredIds>(new CommandDefinition(sql, Parameters(prediction, new { InputId = inputId }), cancellationToken: cancellationToken));
    }

    /// <summary>Inserts the prediction of the row in <c>input</c>, a CTE the statement starts with.</summary>
    private const string InsertPrediction = """
        INSERT INTO predictions (input_id, model_name, model_version, probabilities, likely_class, confidence)
        SELECT id, @ModelName, @ModelVersion, @Probabilities::jsonb, @LikelyClass, @Confidence FROM input
        RETURNING id AS PredictionId, input_id AS InputId, created_at AS CreatedAt
        """;

    private static DynamicParameters Parameters(NewPrediction prediction, object inputParameters)
    {
        var parameters = new DynamicParameters(inputParameters);
        parameters.AddDynamicParams(new
        {
            prediction.ModelName,
            prediction.ModelVersion,
            Probabilities = JsonSerializer.Serialize(prediction.Probabilities),
            prediction.LikelyClass,
            prediction.Confidence,
        });
        return parameters;
    }

    /// <summary>Applies a feedback patch to prediction <paramref name="predictionId"/>; false when there is no such prediction.</summary>
    public async Task<bool> RecordFeedbackAsync(long predictionId, FeedbackPatch patch, CancellationToken cancellationToken)
    {
        // labeled_at follows true_label: set when a label is recorded, cleared with it.
        const string sql = """
            UPDATE predictions
            SET true_label = CASE WHEN @SetLabel THEN @TrueLabel ELSE true_label END,
                labeled_at = CASE WHEN NOT @SetLabel THEN labeled_at WHEN @TrueLabel IS NULL THEN NULL ELSE now() END,
                note = CASE WHEN @SetNote THEN @Note ELSE note END
            WHERE id = @predictionId
            """;
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteAsync(new CommandDefinition(sql, new
        {
            patch.SetLabel,
            patch.TrueLabel,
            patch.SetNote,
            patch.Note,
            predictionId,
        }, cancellationToken: cancellationToken)) > 0;
    }
}
