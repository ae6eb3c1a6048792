using System.Globalization;
using PredictionApi.Inference;

namespace PredictionApi.Predictions;

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
    /// The names of a stored prediction's classes: the labels of the model version that made it (or, when that version
    /// was not loaded since start, of its model's serving version) when they are as many as its classes; otherwise none,
    /// and classes are named by index.
    /// </summary>
    public static IReadOnlyList<string> NamesFor(ModelRegistry models, ModelRef model, int classes) =>
        models.Labels(model.Name, model.Version) is { } labels && labels.Length == classes ? labels : [];

    internal static StoredPrediction WithLabels(this StoredPrediction prediction, ModelRegistry models, LabelSelection selection) =>
        prediction with
        {
            Labels = Select(prediction.Prediction, NamesFor(models, prediction.Model, prediction.Prediction.Length), selection.MaxLabels, selection.MinConfidence),
        };
}
