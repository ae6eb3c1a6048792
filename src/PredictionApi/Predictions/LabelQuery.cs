using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using PredictionApi.Problems;

namespace PredictionApi.Predictions;

/// <summary>The ?max_labels= and ?min_confidence= query parameters of every endpoint that returns predictions.</summary>
public readonly record struct LabelQuery(
    [FromQuery(Name = "max_labels")] string? MaxLabels,
    [FromQuery(Name = "min_confidence")] string? MinConfidence)
{
    /// <summary>The validated selection for a model with <paramref name="classes"/> classes, or a 400 saying what is wrong.</summary>
    internal ProblemHttpResult? TryResolve(int classes, out LabelSelection selection)
    {
        selection = LabelSelection.Default(classes);
        if (MaxLabels is not null)
        {
            if (!int.TryParse(MaxLabels, NumberStyles.None, CultureInfo.InvariantCulture, out var max) || max < 1 || max > classes)
            {
                return ApiProblems.BadRequest(
                    $"max_labels must be a whole number from 1 to {classes} (the model's class count; default {LabelSelection.Default(classes).MaxLabels}), not '{MaxLabels}'.");
            }

            selection = selection with { MaxLabels = max };
        }

        if (MinConfidence is not null)
        {
            if (QueryValues.Probability(MinConfidence) is not { } min)
            {
                return ApiProblems.BadRequest($"min_confidence must be a number from 0 to 1, such as 0.5, not '{MinConfidence}'.");
            }

            selection = selection with { MinConfidence = min };
        }

        return null;
    }
}
