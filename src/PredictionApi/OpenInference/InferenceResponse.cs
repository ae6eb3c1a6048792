using System.Text.Json.Serialization;

namespace PredictionApi.OpenInference;

/// <summary>
/// The answer of an inference request. <see cref="Id"/> is the request's id, left out when it sent none;
/// <see cref="Parameters"/> holds the ids of the stored rows (see <see cref="InferenceParameters"/>).
/// </summary>
public sealed record InferenceResponse(
    string ModelName,
    string ModelVersion,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Id,
    IReadOnlyDictionary<string, string> Parameters,
    IReadOnlyList<ResponseOutput> Outputs);
