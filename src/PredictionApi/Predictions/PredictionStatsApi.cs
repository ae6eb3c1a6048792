using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using PredictionApi.Inference;

namespace PredictionApi.Predictions;

/// <summary>GET /predictions/stats: what a model predicted over a time range, and how often it was right.</summary>
public static class PredictionStatsApi
{
    // Tenths: the bins prediction_counts is maintained with (db/schema.sql).
    public const int HistogramBins = 10;

    public static async Task<Results<Ok<PredictionStats>, ProblemHttpResult>> GetStats(
        string? from, string? to, string? model, ModelRegistry models, PredictionReader reader, CancellationToken cancellationToken)
    {
        if (PredictionFilter.TryParse(model ?? models.DefaultName, null, null, null, null, from, to, out var filter) is { } problem)
        {
            return problem;
        }

        var groups = await reader.StatsGroupsAsync(filter, cancellationToken);
        return TypedResults.Ok(Summarize(filter, models.SpecOf(filter.Model)?.Labels ?? [], groups));
    }

    /// <param name="known">The labels of the model's serving version; classes beyond them are named by index.</param>
    private static PredictionStats Summarize(PredictionFilter filter, string[] known, IReadOnlyList<StatsGroup> groups)
    {
        var modelName = filter.Model!;
        var classCount = Math.Max(known.Length, groups.Count == 0 ? 0 : groups.Max(g => g.LikelyClass) + 1);
        string Name(int index) => index < known.Length ? known[index] : index.ToString(CultureInfo.InvariantCulture);

        var counts = new long[classCount];
        var sums = new double[classCount];
        var bins = new long[HistogramBins];
        foreach (var g in groups)
        {
            counts[g.LikelyClass] += g.Count;
            sums[g.LikelyClass] += g.ConfidenceSum;
            bins[g.Bin] += g.Count;
        }

        var total = counts.Sum();
        var classes = Enumerable.Range(0, classCount)
            .Select(c => new ClassStats(c, Name(c), counts[c], counts[c] == 0 ? null : sums[c] / counts[c]))
            .ToList();
        var histogram = Enumerable.Range(0, HistogramBins)
            .Select(b => new ConfidenceBin(b / (double)HistogramBins, (b + 1) / (double)HistogramBins, bins[b]))
            .ToList();
        return new PredictionStats(modelName, filter.From, filter.To, total, total == 0 ? null : sums.Sum() / total, classes, histogram,
            Feedback(groups.Where(g => g.TrueLabel is not null).ToList(), classCount, Name));
    }

    private static FeedbackStats Feedback(IReadOnlyList<StatsGroup> labeled, int classCount, Func<int, string> name)
    {
        if (labeled.Count == 0)
        {
            return new FeedbackStats(0, 0, null, null);
        }

        // The matrix axis: the model's classes in order, then true labels that are not among them.
        var axis = Enumerable.Range(0, classCount).Select(name).ToList();
        axis.AddRange(labeled.Select(g => g.TrueLabel!).Where(l => !axis.Contains(l)).Distinct().Order(StringComparer.Ordinal));
        var position = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < axis.Count; i++)
        {
            position.TryAdd(axis[i], i);
        }
        var matrix = axis.Select(_ => new long[axis.Count]).ToArray();
        long total = 0, correct = 0;
        foreach (var g in labeled)
        {
            var predicted = name(g.LikelyClass);
            matrix[position[g.TrueLabel!]][position[predicted]] += g.Count;
            total += g.Count;
            correct += g.TrueLabel == predicted ? g.Count : 0;
        }

        return new FeedbackStats(total, correct, (double)correct / total, new ConfusionMatrix(axis, matrix));
    }
}
