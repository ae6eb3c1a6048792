using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.HttpResults;
using PredictionApi.Problems;

namespace PredictionApi.Predictions;

/// <summary>
/// The ?fields= of GET /predictions: a comma-separated list of the fields each item carries, where
/// <c>*</c> stands for every field of a default item (all but the image). prediction_id is always
/// included, so every item can be fetched, labelled or deleted.
/// </summary>
public sealed class PredictionFields
{
    /// <summary>Every field of a stored prediction, as JSON names it.</summary>
    public static IReadOnlyList<string> All { get; } =
        ["prediction_id", "input_id", "filename", "contenttype", "prediction", "labels", "likely_class", "confidence", "model", "created_at",
         "true_label", "note", "labeled_at", "created_by", "shadow", "image"];

    private const string Image = "image";

    private readonly HashSet<string> _selected;

    private PredictionFields(HashSet<string> selected) => _selected = selected;

    /// <summary>True when the items carry the image, which is then read from wherever the input is stored.</summary>
    public bool IncludesImage => _selected.Contains(Image);

    /// <summary>Parses ?fields=; null input means the default item shape, and <paramref name="fields"/> is null then.</summary>
    internal static ProblemHttpResult? TryParse(string? text, out PredictionFields? fields)
    {
        fields = null;
        if (text is null)
        {
            return null;
        }

        var selected = new HashSet<string>(StringComparer.Ordinal) { "prediction_id" };
        var parts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length == 0)
        {
            return ApiProblems.BadRequest($"fields is empty; list field names separated by commas, such as fields=likely_class,confidence or fields=*,image. The fields are: {string.Join(", ", All)}.");
        }

        foreach (var part in parts)
        {
            if (part == "*")
            {
                selected.UnionWith(All.Where(f => f != Image));
            }
            else if (All.Contains(part))
            {
                selected.Add(part);
            }
            else
            {
                return ApiProblems.BadRequest($"fields names '{part}', which is not a field. The fields are: {string.Join(", ", All)}; '*' stands for all but image.");
            }
        }

        fields = new PredictionFields(selected);
        return null;
    }

    /// <summary>The item as JSON with only the selected fields, in the order of the full item (the image last).</summary>
    public JsonObject Project(StoredPrediction prediction, JsonSerializerOptions options)
    {
        var item = JsonSerializer.SerializeToNode(prediction, options)!.AsObject();
        foreach (var name in item.Select(p => p.Key).ToList())
        {
            if (!_selected.Contains(name))
            {
                item.Remove(name);
            }
        }

        // An image asked for but not available (gone from object storage) is there as null.
        if (IncludesImage && !item.ContainsKey(Image))
        {
            item[Image] = null;
        }

        return item;
    }
}
