namespace PredictionApi.Inference;

/// <summary>What GET /models says about one version of a model.</summary>
/// <param name="Serving">Whether requests that name no version get this one.</param>
/// <param name="Reason">Why it failed to load, when it did.</param>
public sealed record ModelVersionStatus(string Version, string State, bool Serving, string? Reason, string? Sha256, DateTimeOffset? LoadedAt);
