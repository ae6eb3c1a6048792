using System.Text.Json;

namespace PredictionApi.OpenInference;

/// <summary>One input tensor of an inference request: <see cref="Data"/> is row-major, flat or nested as <see cref="Shape"/>.</summary>
public sealed record RequestInput(
    string? Name,
    long[]? Shape,
    string? Datatype,
    Dictionary<string, JsonElement>? Parameters,
    JsonElement? Data);
