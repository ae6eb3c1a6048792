using PredictionApi.Inference;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using JsonOptions = Microsoft.AspNetCore.Http.Json.JsonOptions;
using Microsoft.Extensions.Options;
using Npgsql;
using PredictionApi.Imaging;
using PredictionApi.Problems;

namespace PredictionApi.Predictions;

/// <summary>
/// POST /predictions/batch: several images in one request. Every file gets its own result or its own
/// error, in request order. The good files are stored together in one transaction (with the answer,
/// when an Idempotency-Key is sent), so a batch is stored completely or not at all, and a retry with
/// the same key replays the stored answer instead of storing the files again.
/// </summary>
public static class BatchApi
{

    /// <summary>The multipart form POST /predictions/batch reads (for the OpenAPI document).</summary>
    public sealed record BatchForm(IFormFileCollection File);

    public static async Task<Results<Ok<BatchItem[]>, ProblemHttpResult>> CreateBatch(
        HttpContext context,
        [AsParameters] LabelQuery labelQuery,
        ImagePredictor predictor,
        PredictionWriter recorder,
        NpgsqlDataSource dataSource,
        IOptions<BatchOptions> batchOptions,
        IOptions<UploadOptions> uploadOptions,
        IOptions<JsonOptions> jsonOptions,
        CancellationToken cancellationToken)
    {
        var spec = predictor.Spec;
        if (labelQuery.TryResolve(spec.Output.Classes, out var selection) is { } badLabels)
        {
            return badLabels;
        }

        // Read by hand: model binding would treat an empty header as no header at all.
        var keyHeader = context.Request.Headers[IdempotencyKeys.Header];
        var idempotencyKey = keyHeader.Count == 0 ? null : keyHeader.ToString();
        if (keyHeader.Count > 1 || idempotencyKey is not null && !IdempotencyKeys.IsValid(idempotencyKey))
        {
            return ApiProblems.BadRequest($"The {IdempotencyKeys.Header} header must be 1 to 255 printable ASCII characters, such as a UUID.", "Invalid idempotency key");
        }

        var options = batchOptions.Value;
        var (files, requestSha256, problem) = await BatchUpload.ReadAsync(context.Request, options, uploadOptions.Value.MaxBytes, cancellationToken);
        if (files is null)
        {
            return problem!;
        }

        var json = jsonOptions.Value.SerializerOptions;
        if (idempotencyKey is not null)
        {
            // A retry of a finished batch costs one lookup, not a second round of inference.
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            if (await IdempotencyKeys.FindAsync(connection, idempotencyKey, options.IdempotencyKeyHours, cancellationToken) is { } stored)
            {
                return Replay(context, stored, requestSha256, json);
            }
        }

        // Inference is CPU work: spread the files over the cores.
        var outcomes = new object?[files.Count];
        Parallel.For(0, files.Count, new ParallelOptions { CancellationToken = cancellationToken }, i =>
        {
            if (files[i].Error is not null)
            {
                return;
            }

            try
            {
                outcomes[i] = predictor.Predict(files[i].Bytes);
            }
            catch (ImageRejectedException e)
            {
                outcomes[i] = new BatchError(e.Status, e.Title, e.Message);
            }
        });

        var items = new BatchItem[files.Count];
        await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken))
        await using (var transaction = await connection.BeginTransactionAsync(cancellationToken))
        {
            if (idempotencyKey is not null && !await IdempotencyKeys.ClaimAsync(connection, idempotencyKey, requestSha256, options.IdempotencyKeyHours, cancellationToken))
            {
                // A concurrent request with this key finished first; nothing of ours is stored.
                await transaction.RollbackAsync(cancellationToken);
                var stored = await IdempotencyKeys.FindAsync(connection, idempotencyKey, options.IdempotencyKeyHours, cancellationToken);
                return stored is null
                    ? ApiProblems.Problem(StatusCodes.Status409Conflict, "Idempotency key in use", $"Another request with {IdempotencyKeys.Header} '{idempotencyKey}' is in progress; retry shortly.")
                    : Replay(context, stored, requestSha256, json);
            }

            for (var i = 0; i < files.Count; i++)
            {
                var file = files[i];
                if (outcomes[i] is ImagePrediction labelled)
                {
                    var ids = await recorder.RecordAsync(connection, new RecordedUpload(file.FileName, file.Bytes, labelled.Header), NewPrediction.Of(labelled, spec), cancellationToken);
                    items[i] = new BatchItem
                    {
                        Filename = file.FileName,
                        ContentType = labelled.Header.ContentType,
                        Prediction = labelled.Probabilities,
                        LikelyClass = labelled.LikelyClass,
                        Confidence = labelled.Confidence,
                        Labels = TopLabels.Select(labelled.Probabilities, spec.Labels, selection.MaxLabels, selection.MinConfidence),
                        InputId = ids.InputId,
                        PredictionId = ids.PredictionId,
                        Model = new ModelRef(spec.Name, spec.Version),
                        CreatedAt = ids.CreatedAt,
                    };
                }
                else
                {
                    items[i] = new BatchItem { Filename = file.FileName, Error = file.Error ?? (BatchError)outcomes[i]! };
                }
            }

            if (idempotencyKey is not null)
            {
                await IdempotencyKeys.CompleteAsync(connection, idempotencyKey, JsonSerializer.Serialize(items, json), cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
        }

        return TypedResults.Ok(items);
    }

    private static Results<Ok<BatchItem[]>, ProblemHttpResult> Replay(HttpContext context, StoredAnswer stored, byte[] requestSha256, JsonSerializerOptions json)
    {
        if (!stored.RequestSha256.AsSpan().SequenceEqual(requestSha256))
        {
            return ApiProblems.Problem(StatusCodes.Status422UnprocessableEntity, "Idempotency key reused",
                $"The {IdempotencyKeys.Header} was already used for a batch with other files or parameters. Use a new key for a new batch.");
        }

        context.Response.Headers[IdempotencyKeys.ReplayedHeader] = "true";
        return TypedResults.Ok(JsonSerializer.Deserialize<BatchItem[]>(stored.Response, json)!);
    }
}
