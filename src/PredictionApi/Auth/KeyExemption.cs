namespace PredictionApi.Auth;

/// <summary>
/// Endpoint metadata: the endpoint answers without a key when <see cref="Applies"/> says so for the current
/// configuration (GET /metrics with Auth:MetricsPublic). Endpoints that are always public carry AllowAnonymous.
/// </summary>
public sealed record KeyExemption(Func<AuthOptions, bool> Applies);
