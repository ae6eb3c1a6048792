using System.Security.Cryptography;
using System.Text.Json;
using Dapper;
using Npgsql;
using PredictionApi.Observability;
using PredictionApi.Problems;
using PredictionApi.Storage.InputStores;

namespace PredictionApi.Predictions;

/// <summary>
/// Writes inputs with their predictions, wherever the <see cref="IInputStore"/> keeps the bytes: first
/// the bytes (an object put), then the rows. If the rows fail the object is an unreferenced leftover,
/// which is harmless; a row pointing at missing bytes cannot happen. Uploads whose bytes live in
/// PostgreSQL and that carry no Idempotency-Key share transactions through <see cref="GroupCommit"/>;
/// the others (an object put to hold a lock for, a key to claim) get a transaction of their own.
/// Used by POST /prediction, POST /predictions/batch and the predict command.
/// </summary>
public sealed class PredictionWriter(NpgsqlDataSource dataSource, IInputStore inputs, GroupCommit groupCommit, ServiceMetrics metrics)
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

        if (claim is null && inputs.Kind == StorageKinds.Database)
        {
            // Cancellation counts until the write is handed over; after that it commits with its group.
            cancellationToken.ThrowIfCancellationRequested();
            var pairs = items.Select(i => Pair(i.Upload, i.Prediction, DatabaseInputStore.Payload(i.Upload.Bytes.Span), SHA256.HashData(i.Upload.Bytes.Span))).ToList();
            using (ServiceMetrics.Tracing.StartActivity("store"))
            {
                return Counted(new RecordOutcome(await groupCommit.WriteAsync(pairs), null), items);
            }
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        if (claim is not null && !await IdempotencyKeys.ClaimAsync(connection, claim.Key, claim.RequestSha256, claim.Hours, cancellationToken))
        {
            // A concurrent request with this key finished first; nothing of ours is stored.
            await transaction.RollbackAsync(cancellationToken);
            return new RecordOutcome([], await IdempotencyKeys.FindAsync(connection, claim.Key, claim.Hours, cancellationToken)
                ?? throw new ProblemException(StatusCodes.Status409Conflict, "Idempotency key in use",
                    $"Another request with {IdempotencyKeys.Header} '{claim.Key}' is in progress; retry shortly."));
        }

        var ids = await RecordAsync(connection, items, cancellationToken);
        if (claim is not null)
        {
            await IdempotencyKeys.CompleteAsync(connection, claim.Key, claim.Answer(ids), cancellationToken);
        }

        await CommitStep.RunAsync(() => transaction.CommitAsync(cancellationToken));
        return Counted(new RecordOutcome(ids, null), items);
    }

    private RecordOutcome Counted(RecordOutcome outcome, IReadOnlyList<(RecordedUpload Upload, NewPrediction Prediction)> items)
    {
        foreach (var (_, prediction) in items)
        {
            metrics.Stored.Add(1, new("model", prediction.ModelName), new("version", prediction.ModelVersion));
        }

        return outcome;
    }

    /// <summary>Stores inputs and their predictions inside the caller's open transaction on <paramref name="connection"/>.</summary>
    public async Task<IReadOnlyList<StoredIds>> RecordAsync(NpgsqlConnection connection, IReadOnlyList<(RecordedUpload Upload, NewPrediction Prediction)> items, CancellationToken cancellationToken)
    {
        var pairs = new List<PendingPair>(items.Count);
        foreach (var (upload, prediction) in items)
        {
            var sha256 = SHA256.HashData(upload.Bytes.Span);
            pairs.Add(Pair(upload, prediction, await inputs.PutAsync(connection, upload.Bytes, sha256, upload.ContentType, cancellationToken), sha256));
        }

        return await InsertPairsAsync(connection, pairs, cancellationToken);
    }

    private static PendingPair Pair(RecordedUpload upload, NewPrediction prediction, InputPayload payload, byte[] sha256) =>
        new(upload.FileName, upload.ContentType, payload.Data, sha256, upload.Bytes.Length, upload.Width, upload.Height,
            payload.StorageKind, payload.ObjectKey, prediction);

    /// <summary>
    /// Inserts the pairs with one statement, whatever their number: the input ids are drawn first so each
    /// prediction names its own input, and the ids come back in the order of <paramref name="pairs"/>.
    /// </summary>
    public static async Task<IReadOnlyList<StoredIds>> InsertPairsAsync(NpgsqlConnection connection, IReadOnlyList<PendingPair> pairs, CancellationToken cancellationToken)
    {
        if (pairs.Count == 1)
        {
            // One pair (every group when the service is not busy): a statement PostgreSQL plans in a fraction of the time.
            return [await InsertPairAsync(connection, pairs[0], cancellationToken)];
        }

        const string sql = """
            WITH pair AS (
                SELECT * FROM unnest(@FileNames::text[], @ContentTypes::text[], @Data::text[], @Sha256s::bytea[], @ByteSizes::int[],
                                     @Widths::int[], @Heights::int[], @StorageKinds::text[], @ObjectKeys::text[], @ModelNames::text[],
                                     @ModelVersions::text[], @Probabilities::text[], @LikelyClasses::int[], @Confidences::real[],
                                     @CreatedBy::text[])
                    WITH ORDINALITY AS p(filename, content_type, data, sha256, byte_size, width, height, storage_kind, object_key,
                                         model_name, model_version, probabilities, likely_class, confidence, created_by, ord)
            ),
            id AS MATERIALIZED (
                SELECT ord, nextval(pg_get_serial_sequence('inputs', 'id')) AS input_id FROM pair
            ),
            input AS (
                INSERT INTO inputs (id, filename, content_type, data, sha256, byte_size, width, height, storage_kind, object_key)
                OVERRIDING SYSTEM VALUE
                SELECT id.input_id, p.filename, p.content_type, p.data, p.sha256, p.byte_size, p.width, p.height, p.storage_kind, p.object_key
                FROM pair p JOIN id USING (ord)
            ),
            prediction AS (
                INSERT INTO predictions (input_id, model_name, model_version, probabilities, likely_class, confidence, created_by)
                SELECT id.input_id, p.model_name, p.model_version, p.probabilities::jsonb, p.likely_class, p.confidence, p.created_by
                FROM pair p JOIN id USING (ord)
                ORDER BY ord
                RETURNING id, input_id, created_at
            )
            SELECT prediction.id AS PredictionId, prediction.input_id AS InputId, prediction.created_at AS CreatedAt
            FROM prediction JOIN id ON id.input_id = prediction.input_id
            ORDER BY id.ord
            """;
        var rows = await connection.QueryAsync<StoredIds>(new CommandDefinition(sql, new
        {
            FileNames = pairs.Select(p => p.FileName).ToArray(),
            ContentTypes = pairs.Select(p => p.ContentType).ToArray(),
            Data = pairs.Select(p => p.Data).ToArray(),
            Sha256s = pairs.Select(p => p.Sha256).ToArray(),
            ByteSizes = pairs.Select(p => p.ByteSize).ToArray(),
            Widths = pairs.Select(p => p.Width).ToArray(),
            Heights = pairs.Select(p => p.Height).ToArray(),
            StorageKinds = pairs.Select(p => p.StorageKind).ToArray(),
            ObjectKeys = pairs.Select(p => p.ObjectKey).ToArray(),
            ModelNames = pairs.Select(p => p.Prediction.ModelName).ToArray(),
            ModelVersions = pairs.Select(p => p.Prediction.ModelVersion).ToArray(),
            Probabilities = pairs.Select(p => JsonSerializer.Serialize(p.Prediction.Probabilities)).ToArray(),
            LikelyClasses = pairs.Select(p => p.Prediction.LikelyClass).ToArray(),
            Confidences = pairs.Select(p => p.Prediction.Confidence).ToArray(),
            CreatedBy = pairs.Select(p => p.Prediction.CreatedBy).ToArray(),
        }, cancellationToken: cancellationToken));
        return rows.AsList();
    }

    private static Task<StoredIds> InsertPairAsync(NpgsqlConnection connection, PendingPair pair, CancellationToken cancellationToken)
    {
        // The input exists only if its prediction does: one statement inserts both.
        const string sql = """
            WITH input AS (
                INSERT INTO inputs (filename, content_type, data, sha256, byte_size, width, height, storage_kind, object_key)
                VALUES (@FileName, @ContentType, @Data, @Sha256, @ByteSize, @Width, @Height, @StorageKind, @ObjectKey)
                RETURNING id
            )
            """ + InsertPrediction;
        return connection.QuerySingleAsync<StoredIds>(new CommandDefinition(sql, Parameters(pair.Prediction, new
        {
            pair.FileName,
            pair.ContentType,
            pair.Data,
            pair.Sha256,
            pair.ByteSize,
            pair.Width,
            pair.Height,
            pair.StorageKind,
            pair.ObjectKey,
        }), cancellationToken: cancellationToken));
    }

    /// <summary>
    /// Stores shadow predictions of inputs already stored, in one statement and transaction; an input deleted since is
    /// skipped. Returns how many were stored.
    /// </summary>
    public async Task<int> RecordShadowsAsync(IReadOnlyList<(long InputId, NewPrediction Prediction)> items, CancellationToken cancellationToken)
    {
        // As RecordForInputAsync: the inputs are locked (in id order, so two writers wait rather than deadlock) and
        // their true labels copied, since ground truth belongs to the input.
        const string sql = """
            WITH truth AS (
                SELECT id, true_label, labeled_at FROM inputs WHERE id = ANY(@InputIds) ORDER BY id FOR NO KEY UPDATE
            )
            INSERT INTO predictions (input_id, model_name, model_version, probabilities, likely_class, confidence, true_label, labeled_at, created_by, shadow)
            SELECT s.input_id, s.model_name, s.model_version, s.probabilities::jsonb, s.likely_class, s.confidence, truth.true_label, truth.labeled_at, s.created_by, true
            FROM unnest(@InputIds::bigint[], @ModelNames::text[], @ModelVersions::text[], @Probabilities::text[], @LikelyClasses::int[], @Confidences::real[],
                        @CreatedBy::text[])
                AS s(input_id, model_name, model_version, probabilities, likely_class, confidence, created_by)
            JOIN truth ON truth.id = s.input_id
            """;
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteAsync(new CommandDefinition(sql, new
        {
            InputIds = items.Select(i => i.InputId).ToArray(),
            ModelNames = items.Select(i => i.Prediction.ModelName).ToArray(),
            ModelVersions = items.Select(i => i.Prediction.ModelVersion).ToArray(),
            Probabilities = items.Select(i => JsonSerializer.Serialize(i.Prediction.Probabilities)).ToArray(),
            LikelyClasses = items.Select(i => i.Prediction.LikelyClass).ToArray(),
            Confidences = items.Select(i => i.Prediction.Confidence).ToArray(),
            CreatedBy = items.Select(i => i.Prediction.CreatedBy).ToArray(),
        }, cancellationToken: cancellationToken));
    }

    /// Adds a prediction to an input that is already stored (a new model labelling known bytes). The input's true label,
    /// if it has one, is the new prediction's too: ground truth belongs to the input. Every other path that adds a
    /// prediction to an existing input should come through here.
    /// </summary>
    public static Task<StoredIds> RecordForInputAsync(NpgsqlConnection connection, long inputId, NewPrediction prediction, CancellationToken cancellationToken)
    {
        // Locking the input orders this insert with a concurrent label change (which updates the input, then its
        // predictions) and with another model's prediction of it (the comparison pairs are made from what each sees).
        // The foreign key still refuses an input that was deleted in the meantime.
        const string sql = """
            WITH input AS (SELECT @InputId::bigint AS id),
            truth AS (SELECT true_label, labeled_at FROM inputs WHERE id = @InputId FOR NO KEY UPDATE)
            INSERT INTO predictions (input_id, model_name, model_version, probabilities, likely_class, confidence, true_label, labeled_at, created_by)
            SELECT input.id, @ModelName, @ModelVersion, @Probabilities::jsonb, @LikelyClass, @Confidence, truth.true_label, truth.labeled_at, @CreatedBy
            FROM input LEFT JOIN truth ON true
            RETURNING id AS PredictionId, input_id AS InputId, created_at AS CreatedAt
            """;
        return connection.QuerySingleAsync<StoredIds>(new CommandDefinition(sql, Parameters(prediction, new { InputId = inputId }), cancellationToken: cancellationToken));
    }

    /// <summary>Inserts the prediction of the row in <c>input</c>, a CTE the statement starts with.</summary>
    private const string InsertPrediction = """
        INSERT INTO predictions (input_id, model_name, model_version, probabilities, likely_class, confidence, created_by)
        SELECT id, @ModelName, @ModelVersion, @Probabilities::jsonb, @LikelyClass, @Confidence, @CreatedBy FROM input
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
            prediction.CreatedBy,
        });
        return parameters;
    }

    /// <summary>
    /// Applies a feedback patch to prediction <paramref name="predictionId"/>; false when there is no such prediction.
    /// The true label is the input's: it is written there, and the input's trigger copies it to every prediction of the
    /// input (every model's) in this statement's transaction. The note is this prediction's own.
    /// </summary>
    public async Task<bool> RecordFeedbackAsync(long predictionId, FeedbackPatch patch, CancellationToken cancellationToken)
    {
        // labeled_at follows true_label: set when a label is recorded, cleared with it. The input is locked (updated)
        // before its predictions, as deletes and writers of another prediction of it lock it: the label change waits
        // for a concurrent delete of one of them (or the delete for it) instead of deadlocking with it.
        const string sql = """
            WITH label AS (
                UPDATE inputs i
                SET true_label = @TrueLabel, labeled_at = CASE WHEN @TrueLabel IS NULL THEN NULL ELSE now() END
                WHERE @SetLabel AND i.id = (SELECT input_id FROM predictions WHERE id = @predictionId)
            )
            SELECT count(*) FROM predictions WHERE id = @predictionId;
            -- A statement of its own (one implicit transaction with the first), after the input's lock.
            UPDATE predictions SET note = @Note WHERE @SetNote AND id = @predictionId;
            """;
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        // The statements are one implicit transaction, committed as the last one ends.
        return await CommitStep.RunAsync(() => connection.ExecuteScalarAsync<long>(new CommandDefinition(sql, new
        {
            patch.SetLabel,
            patch.TrueLabel,
            patch.SetNote,
            patch.Note,
            predictionId,
        }, cancellationToken: cancellationToken)),
            "The connection to the prediction database broke before it confirmed the change, so it may or may not have been " +
            "applied. Repeating the same PATCH is safe: it sets the same values.") > 0;
    }
}
