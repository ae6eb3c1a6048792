using System.Text.Json.Serialization;

namespace PredictionApi.Predictions;

/// <summary>Answer to POST /prediction: the stored prediction, with the FastAPI-era field names.</summary>
/// <param name="Prediction">One probability per class, in label order, summing to 1.</param>
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
