using Microsoft.AspNetCore.Http.HttpResults;
using PredictionApi.Inference;
using PredictionApi.Problems;

namespace PredictionApi.Predictions;

/// <summary>PATCH /prediction/{id}: record the true label of a prediction's input (every model's prediction of it shares it), and a note on the prediction.</summary>
public static class FeedbackApi
{
    public const int MaxNoteLength = 1000;

    // A label and a note of at most 1,000 characters fit easily; anything far larger is not feedback.
    internal const int MaxBodyBytes = 16 * 1024;

    internal const string BodyExample = """Send JSON such as {"true_label": "7", "note": "written with a thick pen"} with Content-Type: application/json.""";

    /// <summary>The body of PATCH /prediction/{id} (for the OpenAPI document; the handler reads it itself to tell absent from null).</summary>
    public sealed record FeedbackRequest
    {
        /// <summary>One of the served model's labels; null clears it.</summary>
        public string? TrueLabel { get; init; }

        /// <summary>Free text, at most 1000 characters; null clears it.</summary>
        public string? Note { get; init; }
    }

    public static async Task<Results<Ok<StoredPrediction>, ProblemHttpResult>> RecordFeedback(
        string id, HttpRequest request, [AsParameters] LabelQuery labelQuery, ModelRegistry models, PredictionReader reader,
        PredictionWriter writer, InputImages images, CancellationToken cancellationToken)
    {
        if (!PredictionIds.TryParse(id, out var predictionId, out var invalid))
        {
            return invalid;
        }

        // The true label is checked against the labels of the model that made this prediction.
        var stored = await reader.GetAsync(predictionId, cancellationToken);
        if (stored is null)
        {
            return PredictionIds.NotFound(id);
        }

        if (labelQuery.TryResolve(stored.Classes, out var labels) is { } badLabels)
        {
            return badLabels;
        }

        var (feedback, problem) = await FeedbackPatch.ReadAsync(request, stored.ModelName, models.Labels(stored.ModelName, stored.ModelVersion), cancellationToken);
        if (feedback is null)
        {
            return problem!;
        }

        var updated = await writer.RecordFeedbackAsync(predictionId, feedback, cancellationToken);
        var row = !updated ? null : await reader.GetAsync(predictionId, cancellationToken);
        if (row is null)
        {
            return PredictionIds.NotFound(id);
        }

        try
        {
            return TypedResults.Ok(await images.WithImageAsync(row, models, labels, cancellationToken));
        }
        catch (ProblemException e) when (e.Status == StatusCodes.Status503ServiceUnavailable)
        {
            // Committed already: the answer must say the change was stored, not that the request failed.
            throw new ProblemException(StatusCodes.Status503ServiceUnavailable, "Stored, image unavailable",
                $"The change was stored, but the answer could not include the image: {e.Message} GET /prediction/{predictionId} shows it.", e);
        }
    }
}
