using Microsoft.Extensions.Options;
using PredictionApi.Auth;
using PredictionApi.Problems;

namespace PredictionApi.Predictions;

/// <summary>
/// The /prediction and /predictions routes: every handler of the predictions feature is mapped here, with
/// the statuses it can answer, so the OpenAPI document and the behaviour are read side by side. The
/// handlers live in the <c>...Api</c> classes named after what they do.
/// </summary>
public static class PredictionsApi
{
    public static IEndpointRouteBuilder MapPredictions(this IEndpointRouteBuilder routes)
    {
        var prediction = routes.MapGroup("/prediction").WithTags("Predictions");
        var predictions = routes.MapGroup("/predictions").WithTags("Predictions");

        prediction.MapPost("/", UploadApi.CreatePrediction)
            .AcceptsOnlyQuery("model", "version", "include", "max_labels", "min_confidence")
            .WithSummary("Classify an uploaded image and store the image and its probabilities.")
            .WithDescription("multipart/form-data with one field 'file' (PNG, JPEG, GIF, BMP or WebP). ?include=tensor adds the tensor the model saw. " +
                "Send an Idempotency-Key header (for example a UUID) to make retries safe: the same key with the same file returns the " +
                "stored answer (header Idempotent-Replayed: true) without storing anything again; the same key with another file is 422, " +
                "and 409 once the prediction it stored was deleted.")
            .Accepts<UploadApi.PredictionUpload>("multipart/form-data")
            .WithBodyHint("Send the image in a form field named 'file', for example with curl -F file=@digit.png.")
            .DisableAntiforgery()
            .RequireAdmission(services => UploadReader.BodyLimit(services.GetRequiredService<IOptions<UploadOptions>>().Value.MaxBytes))
            .RequireScope(ApiScope.Predict)
            .ProducesUploadProblems();

        predictions.MapPost("/batch", BatchApi.CreateBatch)
            .AcceptsOnlyQuery("model", "version", "max_labels", "min_confidence")
            .WithSummary("Classify and store several images; one result or error per file, in request order.")
            .WithDescription("multipart/form-data with one 'file' field per image (at most Batch:MaxFiles, default 64). " +
                "Send an Idempotency-Key header (for example a UUID) to make retries safe: the same key with the same files " +
                "returns the stored answer (header Idempotent-Replayed: true) without storing anything again; the same key " +
                "with other files is 422, and 409 once a prediction it stored was deleted. max_labels and min_confidence shape the labels of each result.")
            .Accepts<BatchApi.BatchForm>("multipart/form-data")
            .WithBodyHint("Send each image in a form field named 'file', for example with curl -F file=@a.png -F file=@b.png.")
            .DisableAntiforgery()
            .RequireAdmission(services => UploadReader.BodyLimit(services.GetRequiredService<IOptions<BatchOptions>>().Value.MaxTotalBytes))
            .RequireScope(ApiScope.Predict)
            .ProducesUploadProblems();

        predictions.MapGet("/", PredictionQueriesApi.ListPredictions)
            .WithSummary("Stored predictions, newest first, without images; follow next_cursor for more.")
            .WithDescription(
                "Filters (all optional, combinable): likely_class, label (recorded true label), min_confidence and max_confidence (0..1, " +
                "inclusive), from (inclusive) and to (exclusive) as ISO 8601 times, model, created_by (the name of the API key that stored it). min_confidence also drops labels below it. " +
                "fields=a,b,... returns only those fields of each item ('*' = all but image, e.g. fields=*,image); prediction_id is always present; " +
                "an image whose object is gone from object storage is null. A page with images stops at about 8 MiB of images (at least one item) " +
                "and may hold fewer than limit items; next_cursor continues. " +
                "A cursor only continues the filters it was issued with.")
            .RequireScope(ApiScope.Read)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        prediction.MapGet("/{id}", PredictionQueriesApi.GetPrediction)
            .WithSummary("A stored prediction with its input image as a data URL.")
            .RequireScope(ApiScope.Read)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        prediction.MapGet("/{id}/image", PredictionQueriesApi.GetImage)
            .WithSummary("The stored input image, as uploaded, with its content type (or a redirect to a presigned object URL).")
            .RequireScope(ApiScope.Read)
            .Produces<Stream>(StatusCodes.Status200OK, "image/png", "image/jpeg", "image/gif", "image/bmp", "image/webp")
            .Produces(StatusCodes.Status302Found)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        predictions.MapGet("/stats", PredictionStatsApi.GetStats)
            .WithSummary("Counts per predicted class, mean confidence, a confidence histogram and, where true labels were recorded, accuracy and a confusion matrix.")
            .WithDescription("Optional from (inclusive) and to (exclusive) as ISO 8601 times; model defaults to the served model.")
            .RequireScope(ApiScope.Read)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        predictions.MapGet("/stats/series", PredictionSeriesApi.GetSeries)
            .WithSummary("Predictions per class per hour or day (UTC), for charts over time, from the maintained counts.")
            .WithDescription($"bucket is hour (default) or day. Every bucket that overlaps [from, to) is listed, empty ones too, at most " +
                $"{PredictionSeriesApi.MaxBuckets}; without from the last 48 hours or 30 days up to to (default now). model defaults to the default model.")
            .RequireScope(ApiScope.Read)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        prediction.MapPatch("/{id}", FeedbackApi.RecordFeedback)
            .WithSummary("Record the true label of a prediction (and an optional note); returns the stored prediction.")
            .WithDescription(
                "JSON merge patch: {\"true_label\": \"7\", \"note\": \"...\"}. A field left out is unchanged, null clears it. " +
                "true_label must be one of the labels of the served model (GET /models/{name}); note is at most 1000 characters. " +
                "The true label belongs to the input: every model's prediction of the same input gets it; the note stays on this prediction.")
            .Accepts<FeedbackApi.FeedbackRequest>("application/json", "application/merge-patch+json")
            .WithBodyHint(FeedbackApi.BodyExample)
            .RequireScope(ApiScope.Feedback)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        prediction.MapDelete("/{id}", DeletionApi.DeletePrediction)
            .WithSummary("Delete a prediction, its input when no other prediction uses it, and the input's object in object storage.")
            .RequireScope(ApiScope.Admin)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        predictions.MapDelete("/", DeletionApi.DeletePredictionsBefore)
            .AcceptsOnlyQuery("before", "max_confidence")
            .WithSummary("Retention: delete every prediction created before a time (optionally only those with confidence <= max_confidence).")
            .WithDescription("before (required) is an ISO 8601 time, UTC when it has no offset, and may not be in the future. " +
                "Rows are deleted oldest first in short transactions of Retention:ChunkSize rows; inputs left without predictions go too.")
            .RequireScope(ApiScope.Admin)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return routes;
    }

    /// <summary>What an upload can be refused with: bad input, a stalled body, a key conflict, an unavailable database.</summary>
    private static RouteHandlerBuilder ProducesUploadProblems(this RouteHandlerBuilder builder) => builder
        .ProducesProblem(StatusCodes.Status400BadRequest)
        .ProducesProblem(StatusCodes.Status408RequestTimeout)
        .ProducesProblem(StatusCodes.Status409Conflict)
        .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
        .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
        .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
        .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
}
