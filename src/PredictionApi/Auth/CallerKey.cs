namespace PredictionApi.Auth;

/// <summary>Request feature: the API key a request was admitted with. Absent while the service is open.</summary>
public sealed record CallerKey(string Name)
{
    /// <summary>The name of the key that sent <paramref name="context"/>'s request, or null.</summary>
    public static string? NameOf(HttpContext context) => context.Features.Get<CallerKey>()?.Name;
}
