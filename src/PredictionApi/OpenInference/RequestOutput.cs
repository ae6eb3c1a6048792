using System.Text.Json;

namespace PredictionApi.OpenInference;

/// <summary>An output an inference request asks for by name.</summary>
public sealed record RequestOutput(string? Name, Dictionary<string, JsonElement>? Parameters);
