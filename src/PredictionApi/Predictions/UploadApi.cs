using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using PredictionApi.Imaging;
using PredictionApi.Inference;
using PredictionApi.Problems;

namespace PredictionApi.Predictions;

/// <summary>POST /prediction: classify one uploaded image and store it with its prediction.</summary>
public static class UploadApi
{
    /// <summary>The multipart form POST /prediction reads (for the OpenAPI document).</summary>
    public sealed record PredictionUpload(IFormFile File);

    public static async Task<Results<Ok<PredictionResult>, ProblemHttpResult>> CreatePrediction(
        HttpContext context,
        string? include,
        [AsParameters] LabelQuery labelQuery,
        ImagePredictor predictor,
        PredictionWriter recorder,
        IOptions<UploadOptions> uploadOptions,
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

        var spec = predictor.Spec;
        if (labelQuery.TryResolve(spec.Output.Classes, out var labels) is { } badLabels)
        {
            return badLabels;
        }

        var (upload, problem) = await Upload.ReadAsync(context.Request, "file", uploadOptions.Value.MaxBytes, cancellationToken);
        if (upload is null)
        {
            return problem!;
        }

        using (upload)
        {
            ImagePrediction labelled;
            try
            {
                labelled = predictor.Predict(upload.Bytes, keepTensor: includeTensor);
            }
            catch (ImageRejectedException e)
            {
                return ApiProblems.Problem(e.Status, e.Title, e.Message);
            }

            // The bytes go to the configured input store (PostgreSQL or object storage), then the rows commit.
            var stored = await recorder.RecordAsync(new RecordedUpload(upload.FileName, upload.Memory, labelled.Header), NewPrediction.Of(labelled, spec), cancellationToken);

            context.Response.Headers.Location = $"/prediction/{stored.PredictionId}";
            return TypedResults.Ok(new PredictionResult(upload.FileName, labelled.Header.ContentType, labelled.Probabilities, labelled.LikelyClass, labelled.Confidence,
                stored.InputId, stored.PredictionId, new ModelRef(spec.Name, spec.Version), stored.CreatedAt,
                labelled.Tensor is { } tensor ? new TensorPayload(spec.Input.Layout.ToString(), spec.Input.Shape, tensor) : null)
            {
                Labels = TopLabels.Select(labelled.Probabilities, spec.Labels, labels.MaxLabels, labels.MinConfidence),
            });
        }
    }
}
