using System.ComponentModel.DataAnnotations;

namespace PredictionApi.Health;

/// <summary>Configuration section "Shutdown": how an instance leaves a load balancer's rotation.</summary>
public sealed class ShutdownOptions
{
    public const string Section = "Shutdown";

    /// <summary>
    /// Seconds an instance keeps serving after SIGTERM while /health/ready already answers 503, so a load
    /// balancer's health check takes it out of rotation before it stops listening (default 0: a local
    /// Ctrl+C stops at once; behind a balancer, set it above the check interval times its fall count).
    /// </summary>
    [Range(0, 600, ErrorMessage = "Shutdown:DrainSeconds must be between 0 and 600 (default 0).")]
    public int DrainSeconds { get; set; }
}
