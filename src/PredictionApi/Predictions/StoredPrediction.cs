using System.Text.Json.Serialization;

namespace PredictionApi.Predictions;

/// <summary>A prediction as stored; <see cref="Image"/> (a data URL) when a single prediction is fetched, or listed with fields=image.</summary>
public sealed record StoredPrediction(
    long PredictionId,
    long InputId,
    string Filename,
    [property: JsonPropertyName("contenttype")] string ContentType,
    float[] Prediction,
    int LikelyClass,
    float Confidence,
    ModelRef Model,
    DateTime CreatedAt,
    string? TrueLabel,
    string? Note,
    // The data URL is by far the largest field: it comes last.
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull), JsonPropertyOrder(1)] string? Image)
{
    /// <summary>The most probable classes by name, most probable first (?max_labels=, ?min_confidence=).</summary>
    public IReadOnlyList<LabelScore> Labels { get; init; } = [];

    /// <summary>When <see cref="TrueLabel"/> was recorded; null while there is none.</summary>
    public DateTime? LabeledAt { get; init; }

    /// <summary>The name of the API key that stored it; null when it was stored while the service was open, or by a command.</summary>
    public string? CreatedBy { get; init; }

    /// <summary>Whether a shadow model made it, after the answer of the model the request asked for was sent.</summary>
    public bool Shadow { get; init; }
}
