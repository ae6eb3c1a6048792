namespace PredictionApi.OpenInference;

/// <summary>The protocol's error body, <c>{"error": "..."}</c>, of every failed /v2 request.</summary>
public sealed record InferenceError(string Error);
