using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using PredictionApi.Imaging;
using PredictionApi.Inference;
using PredictionApi.Problems;

namespace PredictionApi.Predictions;

/// <summary>POST /prediction, GET /prediction/{id} and its image.</summary>
public static class PredictionsApi
{
    public static IEndpointRouteBuilder MapPredictions(this IEndpointRouteBuilder routes)
    {
        var prediction = routes.MapGroup("/prediction").WithTags("Predictions");
        prediction.MapPost("/", CreatePrediction)
            .WithSummary("Classify an uploaded image and store the image and its probabilities.")
            .WithDescription("multipart/form-data with one field 'file' (PNG, JPEG, GIF, BMP or WebP). ?include=tensor adds the tensor the model saw.")
            .Accepts<PredictionUpload>("multipart/form-data")
            .WithBodyHint("Send the image in a form field named 'file', for example with curl -F file=@digit.png.")
            .DisableAntiforgery()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        prediction.MapGet("/{id}", GetPrediction)
            .WithSummary("A stored prediction with its input image as a data URL.")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);
        prediction.MapGet("/{id}/image", InputImages.GetImage)
            .WithSummary("The stored input image, as uploaded, with its content type.")
            .Produces(StatusCodes.Status200OK, contentType: "image/png")
            .ProducesProblem(StatusCodes.Status404NotFound);
        return routes;
    }

    /// <summary>The multipart form POST /prediction reads (for the OpenAPI document).</summary>
    public sealed record PredictionUpload(IFormFile File);

    public static async Task<Results<Ok<PredictionResult>, ProblemHttpResult>> CreatePrediction(
        HttpContext context,
        string? include,
        [AsParameters] LabelQuery labelQuery,
        Labeller labeller,
        PredictionRecorder recorder,
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

        var spec = labeller.Spec;
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
            LabelledImage labelled;
            try
            {
                labelled = labeller.Label(upload.Bytes, keepTensor: includeTensor);
            }
            catch (ImageRejectedException e)
            {
                return ApiProblems.Problem(e.Status, e.Title, e.Message);
            }

            // The bytes go to the configured input store (PostgreSQL or object storage), then the rows commit.
            var stored = await recorder.RecordAsync(new RecordedUpload(upload.FileName, upload.Memory, labelled.Header), labelled.ToNewPrediction(spec), cancellationToken);

            context.Response.Headers.Location = $"/prediction/{stored.PredictionId}";
            return TypedResults.Ok(new PredictionResult(upload.FileName, labelled.Header.ContentType, labelled.Probabilities, labelled.LikelyClass, labelled.Confidence,
                stored.InputId, stored.PredictionId, new ModelRef(spec.Name, spec.Version), stored.CreatedAt,
                labelled.Tensor is { } tensor ? new TensorPayload(spec.Input.Layout.ToString(), spec.Input.Shape, tensor) : null)
            {
                Labels = TopLabels.Select(labelled.Probabilities, spec.Labels, labels.MaxLabels, labels.MinConfidence),
            });
        }
    }

    public static async Task<Results<Ok<StoredPrediction>, ProblemHttpResult>> GetPrediction(
        string id, [AsParameters] LabelQuery labelQuery, PredictionStore store, InputImages images, ImageClassifier classifier, CancellationToken cancellationToken)
    {
        if (!PredictionIds.TryParse(id, out var predictionId, out var invalid))
        {
            return invalid;
        }

        if (labelQuery.TryResolve(classifier.Spec.Output.Classes, out var labels) is { } badLabels)
        {
            return badLabels;
        }

        var row = await store.GetAsync(predictionId, cancellationToken);
        if (row is null)
        {
            return PredictionIds.NotFound(id);
        }

        return TypedResults.Ok(await images.WithImageAsync(row, classifier.Spec, labels, cancellationToken));
    }
}
