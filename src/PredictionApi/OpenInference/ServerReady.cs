namespace PredictionApi.OpenInference;

/// <summary>GET /v2/health/ready.</summary>
public sealed record ServerReady(bool Ready);
