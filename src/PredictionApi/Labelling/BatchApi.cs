using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using JsonOptions = Microsoft.AspNetCore.Http.Json.JsonOptions;
using Microsoft.Extensions.Options;
using Npgsql;
using PredictionApi.Imaging;
using PredictionApi.Predictions;
using PredictionApi.Problems;

namespace PredictionApi.Labelling;

/// <summary>
/// POST /predictions/batch: several images in one request. Every file gets its own result or its own
/// error, in request order. The good files are stored together in one transaction (with the answer,
/// when an Idempotency-Key is sent), so a batch is stored completely or not at all, and a retry with
/// the same key replays the stored answer instead of storing the files again.
/// </summary>
public static class BatchApi
{
    public static IEndpointRouteBuilder MapBatch(this IEndpointRouteBuilder routes)
    {
        routes.MapGroup("/predictions").WithTags("Predictions")
            .MapPost("/batch", CreateBatch)
            .WithSummary("Classify and store several images; one result or error per file, in request order.")
            .WithDescription("multipart/form-data with one 'file' field per image (at most Batch:MaxFiles, default 64). " +
                "Send an Idempotency-Key header (for example a UUID) to make retries safe: the same key with the same files " +
                "returns the stored answer (header Idempotent-Replayed: true) without storing anything again; the same key " +
                "with other files is 422. max_labels and min_confidence shape the labels of each result.")
            .Accepts<BatchForm>("multipart/form-data")
            .WithBodyHint("Send each image in a form field named 'file', for example with curl -F file=@a.png -F file=@b.png.")
            .DisableAntiforgery()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return routes;
    }

    /// <summary>The multipart form POST /predictions/batch reads (for the OpenAPI document).</summary>
    public sealed record BatchForm(IFormFileCollection File);

    public static async Task<Results<Ok<BatchItem[]>, ProblemHttpResult>> CreateBatch(
        HttpContext context,
        [AsParameters] LabelQuery labelQuery,
        Labeller labeller,
        PredictionRecorder recorder,
        NpgsqlDataSource dataSource,
        IOptions<BatchOptions> batchOptions,
        IOptions<UploadOptions> uploadOptions,
        IOptions<JsonOptions> jsonOptions,
        CancellationToken cancellationToken)
    {
        var spec = labeller.Spec;
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

        // Inference is CPU work: spread the files over the cores, but no wider: a file may wait for decoding
        // room (Imaging:MaxDecodingPixels), and waiting files must not take every thread of the pool.
        var outcomes = new object?[files.Count];
        var parallel = new ParallelOptions { CancellationToken = cancellationToken, MaxDegreeOfParallelism = Environment.ProcessorCount };
        Parallel.For(0, files.Count, parallel, i =>
        {
            if (files[i].Error is not null)
            {
                return;
            }

            try
            {
                outcomes[i] = labeller.Label(files[i].Bytes);
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
                if (outcomes[i] is LabelledImage labelled)
                {
                    var ids = await recorder.RecordAsync(connection, new RecordedUpload(file.FileName, file.Bytes, labelled.Header), labelled.ToNewPrediction(spec), cancellationToken);
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

/// <summary>Deletes expired idempotency answers once an hour, so the table holds about a day of batches.</summary>
internal sealed class IdempotencySweeper(NpgsqlDataSource dataSource, IOptions<BatchOptions> options, ILogger<IdempotencySweeper> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromHours(1));
        do
        {
            try
            {
                var deleted = await IdempotencyKeys.DeleteExpiredAsync(dataSource, options.Value.IdempotencyKeyHours, stoppingToken);
                if (deleted > 0)
                {
                    logger.LogInformation("Deleted {Count} expired idempotency keys", deleted);
                }
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException && !stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning("Expired idempotency keys could not be deleted: {Reason}", e.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }
}
