namespace PredictionApi.Auth;

/// <summary>Endpoint metadata: the scope a key needs to call the endpoint once keys are required.</summary>
public sealed record RequiredScope(ApiScope Scope);
