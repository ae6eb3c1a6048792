using System.ComponentModel.DataAnnotations;

namespace PredictionApi.Auth;

/// <summary>Configuration section "Auth": when API keys are required and how verified keys are used.</summary>
public sealed class AuthOptions
{
    public const string Section = "Auth";

    /// <summary>Require a key even while none exists (default false: the service is open until the first key is created).</summary>
    public bool Required { get; set; }

    /// <summary>GET /metrics answers without a key (default true); false makes it need the read scope.</summary>
    public bool MetricsPublic { get; set; } = true;

    /// <summary>Requests per minute for keys created without --requests-per-minute (default 0: no limit).</summary>
    [Range(0, 10_000_000, ErrorMessage = "Auth:DefaultRequestsPerMinute must be between 0 (no limit) and 10000000.")]
    public int DefaultRequestsPerMinute { get; set; }

    /// <summary>
    /// How long a verified key is trusted before it is read again (default 5 s): a revoked key stops working
    /// within this time on every instance. 0 reads the key on every request.
    /// </summary>
    [Range(0, 300, ErrorMessage = "Auth:CacheSeconds must be between 0 and 300 (default 5); revocation takes effect within this time.")]
    public int CacheSeconds { get; set; } = 5;
}
