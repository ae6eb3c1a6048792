namespace PredictionApi.Auth;

/// <summary>A row of api_keys, without its hash; the key itself is never stored.</summary>
public sealed record ApiKey(long Id, string Name, string[] Scopes, int? RequestsPerMinute, DateTime CreatedAt, DateTime? LastUsedAt,
    DateTime? ExpiresAt, DateTime? RevokedAt)
{
    public bool Allows(ApiScope scope) => Scopes.Contains(scope.Name());

    public bool IsExpired(DateTime now) => ExpiresAt <= now;
}
