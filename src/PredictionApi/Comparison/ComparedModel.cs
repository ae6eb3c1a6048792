using PredictionApi.Predictions;

namespace PredictionApi.Comparison;

/// <summary>One side of a comparison: a model name, and a version or null for every version of it.</summary>
public sealed record ComparedModel(string Model, string? Version)
{
    /// <summary>
    /// Reads <c>name</c> or <c>name:version</c>; the version is what follows the last ':' (model names may hold ':',
    /// so a bare name containing ':' reads as a name and a version). Null when the text is neither.
    /// </summary>
    public static ComparedModel? Parse(string text)
    {
        var colon = text.LastIndexOf(':');
        if (colon < 0)
        {
            return QueryValues.IsModelName(text) ? new ComparedModel(text, null) : null;
        }

        var (name, version) = (text[..colon], text[(colon + 1)..]);
        return QueryValues.IsModelName(name) && QueryValues.IsText(version) ? new ComparedModel(name, version) : null;
    }

    /// <summary>Whether some prediction could be on both sides (same model, and a version in common).</summary>
    public bool Overlaps(ComparedModel other) =>
        Model == other.Model && (Version is null || other.Version is null || Version == other.Version);

    /// <summary>
    /// Whether this side is stored second in prediction_pairs, which orders a pair by (model_name, model_version)
    /// compared byte-wise (COLLATE "C"). Ordinal UTF-16 order equals UTF-8 byte order for the names a model may have
    /// (it differs only between supplementary characters and U+E000..U+FFFF). Sides must not overlap.
    /// </summary>
    public bool SortsAfter(ComparedModel other)
    {
        var byName = string.CompareOrdinal(Model, other.Model);
        return byName != 0 ? byName > 0 : string.CompareOrdinal(Version, other.Version) > 0;
    }

    public override string ToString() => Version is null ? Model : $"{Model}:{Version}";
}
