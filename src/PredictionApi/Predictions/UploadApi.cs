using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Npgsql;
using PredictionApi.Auth;
using PredictionApi.Inference;
using PredictionApi.Problems;
using JsonOptions = Microsoft.AspNetCore.Http.Json.JsonOptions;

namespace PredictionApi.Predictions;

/// <summary>POST /prediction: classify one uploaded image and store it with its prediction.</summary>
public static class UploadApi
{
    /// <summary>The multipart form POST /prediction reads (for the OpenAPI document).</summary>
    public sealed record PredictionUpload(IFormFile File);

    public static async Task<Results<Ok<PredictionResult>, ProblemHttpResult>> CreatePrediction(
        HttpContext context,
        string? include,
        string? model,
        string? version,
        [AsParameters] LabelQuery labelQuery,
        ModelRegistry models,
        ShadowQueue shadows,
        PredictionWriter writer,
        NpgsqlDataSource dataSource,
        IOptions<UploadOptions> uploadOptions,
        IOptions<BatchOptions> batchOptions,
        IOptions<JsonOptions> jsonOptions,
        CancellationToken cancellationToken)
    {
        var includeTensor = false;
        foreach (var part in (include ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!part.Equals("tensor", StringComparison.OrdinalIgnoreCase))
            {
                return ApiProblems.BadRequest($"include '{part}' is not known; the only value is 'tensor'.");
            }

            includeTensor = true;
        }

        var key = IdempotencyKeys.Read(context);
        var maxBytes = uploadOptions.Value.MaxBytes;
        var json = jsonOptions.Value.SerializerOptions;
        var hours = batchOptions.Value.IdempotencyKeyHours;
        Task<UploadedFiles> Read() => UploadReader.ReadAsync(context.Request, maxFiles: 1, maxBytes, maxBytes, cancellationToken);
        // A file that is refused gets its refusal, with or without a key, never another request's answer.
        var (upload, earlier) = await IdempotencyKeys.ReplayEarlierAsync<PredictionResult>(
            context, key, Read, replays: sent => sent.Files[0].Error is null, dataSource, hours, json, cancellationToken);
        if (earlier is not null)
        {
            return Answer(context, earlier);
        }

        using var lease = models.Acquire(model, version);
        var spec = lease.Spec;
        if (labelQuery.TryResolve(spec.Output.Classes, out var labels) is { } badLabels)
        {
            return badLabels;
        }

        upload ??= await Read();
        var file = upload.Files[0];
        if (file.Error is { } error)
        {
            return ApiProblems.Problem(error.Status, error.Title, error.Detail);
        }

        var predicted = await lease.Predictor.PredictAsync(file.Bytes, keepTensor: includeTensor);
        PredictionResult Result(StoredIds stored) =>
            new(file.FileName, predicted.Header.ContentType, predicted.Probabilities, predicted.LikelyClass, predicted.Confidence,
                stored.InputId, stored.PredictionId, new ModelRef(spec.Name, spec.Version), stored.CreatedAt,
                predicted.Tensor is { } tensor ? new TensorPayload(spec.Input.Layout.ToString(), spec.Input.Shape, tensor) : null)
            {
                Labels = TopLabels.Select(predicted.Probabilities, spec.Labels, labels.MaxLabels, labels.MinConfidence),
            };

        // The bytes go to the configured input store (PostgreSQL or object storage), then the rows commit,
        // with the answer a retry under the same key will get.
        var claim = key is null ? null : new IdempotencyClaim(key, upload.RequestSha256, hours, ids => JsonSerializer.Serialize(Result(ids[0]), json));
        var outcome = await writer.RecordAsync([(new RecordedUpload(file.FileName, file.Bytes, predicted.Header), NewPrediction.Of(predicted, spec) with { CreatedBy = CallerKey.NameOf(context) })], claim, cancellationToken);
        if (outcome.Replay is null)
        {
            shadows.Enqueue(spec, [(outcome.Stored[0].InputId, file.Bytes)], CallerKey.NameOf(context));
        }

        return Answer(context, outcome.Replay is { } replay
            ? IdempotencyKeys.Replay<PredictionResult>(context, replay, upload.RequestSha256, json)
            : Result(outcome.Stored[0]));
    }

    private static Ok<PredictionResult> Answer(HttpContext context, PredictionResult result)
    {
        context.Response.Headers.Location = $"/prediction/{result.PredictionId}";
        return TypedResults.Ok(result);
    }
}
