namespace PredictionApi.OpenInference;

/// <summary>GET /v2.</summary>
public sealed record ServerMetadata(string Name, string Version, string[] Extensions);
