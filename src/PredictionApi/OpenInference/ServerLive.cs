namespace PredictionApi.OpenInference;

/// <summary>GET /v2/health/live.</summary>
public sealed record ServerLive(bool Live);
