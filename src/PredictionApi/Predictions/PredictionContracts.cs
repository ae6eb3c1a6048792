using System.Text.Json.Serialization;

namespace PredictionApi.Predictions;

/// <summary>The model that made a prediction.</summary>
public sealed record ModelRef(string Name, string Version);

/// <summary>The input tensor exactly as the model received it (returned with ?include=tensor).</summary>
/// <param name="Layout">NCHW or NHWC.</param>
/// <param name="Shape">[1, C, H, W] or [1, H, W, C].</param>
/// <param name="Data">The values in that layout, flattened.</param>
public sealed record TensorPayload(string Layout, long[] Shape, float[] Data);

/// <summary>Answer to POST /prediction: the stored prediction, with the FastAPI-era field names.</summary>
/// <param name="Prediction">One probability per class, in label order, summing to 1.</param>
/// <param name="LikelyClass">Index of the most probable class.</param>
/// <param name="Confidence">prediction[likely_class].</param>
public sealed record PredictionResult(
    string Filename,
    [property: JsonPropertyName("contenttype")] string ContentType,
    float[] Prediction,
    int LikelyClass,
    float Confidence,
    long InputId,
    long PredictionId,
    ModelRef Model,
    DateTime CreatedAt,
    // Bulky: after every other field, so a reader of the raw JSON sees the prediction first.
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull), JsonPropertyOrder(1)] TensorPayload? Tensor)
{
    /// <summary>The most probable classes by name, most probable first (?max_labels=, ?min_confidence=).</summary>
    public IReadOnlyList<LabelScore> Labels { get; init; } = [];
}

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
}

/// <summary>One page of GET /predictions, newest first; pass <see cref="NextCursor"/> back as ?cursor= for the next.</summary>
public sealed record PredictionPage(IReadOnlyList<StoredPrediction> Items, string? NextCursor);
