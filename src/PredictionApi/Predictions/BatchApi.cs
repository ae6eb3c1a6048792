using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Npgsql;
using PredictionApi.Auth;
using PredictionApi.Imaging;
using PredictionApi.Inference;
using PredictionApi.Problems;
using JsonOptions = Microsoft.AspNetCore.Http.Json.JsonOptions;

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
        string? model,
        string? version,
        [AsParameters] LabelQuery labelQuery,
        ModelRegistry models,
        ShadowQueue shadows,
        PredictionWriter writer,
        NpgsqlDataSource dataSource,
        IOptions<BatchOptions> batchOptions,
        IOptions<UploadOptions> uploadOptions,
        IOptions<JsonOptions> jsonOptions,
        CancellationToken cancellationToken)
    {
        var key = IdempotencyKeys.Read(context);
        var options = batchOptions.Value;
        var json = jsonOptions.Value.SerializerOptions;
        Task<UploadedFiles> Read() => UploadReader.ReadAsync(context.Request, options.MaxFiles, uploadOptions.Value.MaxBytes, options.MaxTotalBytes, cancellationToken);
        // A refused file is an item of the answer, so every batch replays.
        var (upload, earlier) = await IdempotencyKeys.ReplayEarlierAsync<BatchItem[]>(
            context, key, Read, replays: _ => true, dataSource, options.IdempotencyKeyHours, json, cancellationToken);
        if (earlier is not null)
        {
            return TypedResults.Ok(earlier);
        }

        using var lease = models.Acquire(model, version);
        var (spec, predictor) = (lease.Spec, lease.Predictor);
        if (labelQuery.TryResolve(spec.Output.Classes, out var selection) is { } badLabels)
        {
            return badLabels;
        }

        upload ??= await Read();
        var files = upload.Files;
        // Inference is CPU work: spread the files over the cores, but no wider: a file may wait for decoding room
        // (Imaging:MaxDecodingPixels). Nothing here blocks a pool thread: large images are decoded on threads of their own.
        var outcomes = new object?[files.Count];
        var parallel = new ParallelOptions { CancellationToken = cancellationToken, MaxDegreeOfParallelism = Environment.ProcessorCount };
        await Parallel.ForEachAsync(Enumerable.Range(0, files.Count), parallel, async (i, _) =>
        {
            if (files[i].Error is not null)
            {
                return;
            }

            try
            {
                outcomes[i] = await predictor.PredictAsync(files[i].Bytes);
            }
            catch (ImageRejectedException e)
            {
                outcomes[i] = new BatchError(e.Status, e.Title, e.Message);
            }
        });

        // With a key the answer is kept and replayed to every retry, so a file refused for a passing reason (no decoding
        // room right now) would stay refused for as long as the key is kept. The batch is refused as a whole instead,
        // before anything is stored, and a retry with the same key classifies every file.
        if (key is not null && outcomes.OfType<BatchError>().FirstOrDefault(e => e.Status >= StatusCodes.Status500InternalServerError) is { } passing)
        {
            throw new ProblemException(passing.Status, passing.Title,
                $"{passing.Detail} Nothing of this batch was stored; retry it with the same {IdempotencyKeys.Header}.");
        }

        // The good files are stored together, in request order, with the answer when a key was sent.
        var good = Enumerable.Range(0, files.Count).Where(i => outcomes[i] is ImagePrediction).ToArray();
        BatchItem[] Items(IReadOnlyList<StoredIds> stored)
        {
            var items = new BatchItem[files.Count];
            for (var i = 0; i < files.Count; i++)
            {
                items[i] = new BatchItem { Filename = files[i].FileName, Error = files[i].Error ?? outcomes[i] as BatchError };
            }

            for (var g = 0; g < good.Length; g++)
            {
                var (file, predicted, ids) = (files[good[g]], (ImagePrediction)outcomes[good[g]]!, stored[g]);
                items[good[g]] = new BatchItem
                {
                    Filename = file.FileName,
                    ContentType = predicted.Header.ContentType,
                    Prediction = predicted.Probabilities,
                    LikelyClass = predicted.LikelyClass,
                    Confidence = predicted.Confidence,
                    Labels = TopLabels.Select(predicted.Probabilities, spec.Labels, selection.MaxLabels, selection.MinConfidence),
                    InputId = ids.InputId,
                    PredictionId = ids.PredictionId,
                    Model = new ModelRef(spec.Name, spec.Version),
                    CreatedAt = ids.CreatedAt,
                };
            }

            return items;
        }

        var claim = key is null ? null : new IdempotencyClaim(key, upload.RequestSha256, options.IdempotencyKeyHours, ids => JsonSerializer.Serialize(Items(ids), json));
        var rows = good.Select(i => (new RecordedUpload(files[i].FileName, files[i].Bytes, ((ImagePrediction)outcomes[i]!).Header), NewPrediction.Of((ImagePrediction)outcomes[i]!, spec) with { CreatedBy = CallerKey.NameOf(context) })).ToList();
        var outcome = await writer.RecordAsync(rows, claim, cancellationToken);
        if (outcome.Replay is null)
        {
            shadows.Enqueue(spec, good.Select((i, g) => (outcome.Stored[g].InputId, (ReadOnlyMemory<byte>)files[i].Bytes)).ToList(), CallerKey.NameOf(context));
        }

        return TypedResults.Ok(outcome.Replay is { } replay
            ? IdempotencyKeys.Replay<BatchItem[]>(context, replay, upload.RequestSha256, json)
            : Items(outcome.Stored));
    }
}
