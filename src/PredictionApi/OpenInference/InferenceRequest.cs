using System.Text.Json;

namespace PredictionApi.OpenInference;

/// <summary>
/// The body of POST /v2/models/{model}/infer, as the Open Inference Protocol defines it. Every field is nullable so a
/// request that leaves one out gets an error naming it rather than a deserializer's message.
/// </summary>
public sealed record InferenceRequest(
    string? Id,
    Dictionary<string, JsonElement>? Parameters,
    List<RequestInput?>? Inputs,
    List<RequestOutput?>? Outputs);
