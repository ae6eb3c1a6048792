using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using PredictionApi.Inference;
using PredictionApi.Problems;

namespace PredictionApi.Predictions;

/// <summary>One class of a prediction: its name from the model's labels and its probability.</summary>
public sealed record LabelScore(string Name, float Confidence);

/// <summary>How many labels a response carries (at most <see cref="MaxLabels"/>) and how probable each must be.</summary>
public readonly record struct LabelSelection(int MaxLabels, float MinConfidence)
{
    public static LabelSelection Default(int classes) => new(Math.Min(TopLabels.DefaultMaxLabels, classes), 0);
}

/// <summary>The top-k classes of a probability row, as label-detection services report them.</summary>
public static class TopLabels
{
    public const int DefaultMaxLabels = 5;

    /// <summary>
    /// The most probable classes, most probable first: at most <paramref name="maxLabels"/>, each with a
    /// probability of at least <paramref name="minConfidence"/>. Equal probabilities keep class order, so
    /// the first label is always likely_class. A class without a name in <paramref name="labels"/> is
    /// named by its index.
    /// </summary>
    public static LabelScore[] Select(ReadOnlySpan<float> probabilities, IReadOnlyList<string> labels, int maxLabels, float minConfidence = 0)
    {
        if (maxLabels <= 0)
        {
            return [];
        }

        var candidates = new List<int>(probabilities.Length);
        for (var i = 0; i < probabilities.Length; i++)
        {
            if (probabilities[i] >= minConfidence)
            {
                candidates.Add(i);
            }
        }

        var values = probabilities.ToArray();
        candidates.Sort((a, b) => values[a] != values[b] ? values[b].CompareTo(values[a]) : a.CompareTo(b));
        var count = Math.Min(maxLabels, candidates.Count);
        var top = new LabelScore[count];
        for (var k = 0; k < count; k++)
        {
            var index = candidates[k];
            top[k] = new LabelScore(index < labels.Count ? labels[index] : index.ToString(CultureInfo.InvariantCulture), values[index]);
        }

        return top;
    }

    /// <summary>
    /// The names of a stored prediction's classes: the served model's labels when the prediction was made
    /// by a model of that name with as many classes; otherwise none, and classes are named by index.
    /// </summary>
    public static IReadOnlyList<string> NamesFor(ModelSpec served, string modelName, int classes) =>
        modelName == served.Name && classes == served.Labels.Length ? served.Labels : [];

    internal static StoredPrediction WithLabels(this StoredPrediction prediction, ModelSpec served, LabelSelection selection) =>
        prediction with
        {
            Labels = Select(prediction.Prediction, NamesFor(served, prediction.Model.Name, prediction.Prediction.Length), selection.MaxLabels, selection.MinConfidence),
        };
}

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
