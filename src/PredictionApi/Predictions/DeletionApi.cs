using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using PredictionApi.Problems;

namespace PredictionApi.Predictions;

/// <summary>DELETE /prediction/{id} and the retention delete DELETE /predictions?before=.</summary>
public static class DeletionApi
{
    // Clients' clocks differ a little from the server's; "now" on a fast clock is not "the future".
    private static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(1);


    public static async Task<Results<NoContent, ProblemHttpResult>> DeletePrediction(string id, PredictionDeleter deleter, CancellationToken cancellationToken)
    {
        if (!PredictionIds.TryParse(id, out var predictionId, out var invalid))
        {
            return invalid;
        }

        return await deleter.DeleteAsync(predictionId, cancellationToken) ? TypedResults.NoContent() : PredictionIds.NotFound(id);
    }

    public static async Task<Results<Ok<DeletedPredictions>, ProblemHttpResult>> DeletePredictionsBefore(
        string? before,
        [FromQuery(Name = "max_confidence")] string? maxConfidenceText,
        PredictionDeleter deleter,
        IOptions<RetentionOptions> options,
        CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(before))
        {
            return ApiProblems.BadRequest(
                "before is required: the time before which predictions are deleted, as ISO 8601, for example DELETE /predictions?before=2024-01-31T00:00:00Z.",
                "Missing before");
        }

        // Times and confidences are read exactly as the filters of GET /predictions read them.
        if (QueryValues.Timestamp(before) is not { } cutoff)
        {
            return ApiProblems.BadRequest(
                $"before must be an ISO 8601 date or time such as 2024-01-31 or 2024-01-31T00:00:00Z (no offset means UTC), not '{before}'.", "Invalid before");
        }

        if (cutoff > DateTime.UtcNow + ClockSkew)
        {
            return ApiProblems.BadRequest(
                $"before ({cutoff:O}) is in the future. Retention deletes what is older than a past time; to delete everything stored so far, pass the current time.",
                "Invalid before");
        }

        float? maxConfidence = null;
        if (maxConfidenceText is not null)
        {
            if (QueryValues.Probability(maxConfidenceText) is not { } parsed)
            {
                return ApiProblems.BadRequest($"max_confidence must be a number from 0 to 1, such as 0.5, not '{maxConfidenceText}'.");
            }

            maxConfidence = parsed;
        }

        return TypedResults.Ok(await deleter.DeleteBeforeAsync(cutoff, maxConfidence, options.Value.ChunkSize, options.Value.ChunkPausePercent, cancellationToken));
    }
}
