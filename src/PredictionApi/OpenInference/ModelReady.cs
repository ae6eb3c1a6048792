namespace PredictionApi.OpenInference;

/// <summary>GET /v2/models/{model}[/versions/{version}]/ready.</summary>
public sealed record ModelReady(string Name, bool Ready);
