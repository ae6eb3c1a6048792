using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace PredictionApi.Health;

/// <summary>Not ready once the instance is stopping: a load balancer should send its traffic elsewhere.</summary>
internal sealed class DrainHealthCheck(ShutdownDrain drain) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken) =>
        Task.FromResult(drain.Draining
            ? HealthCheckResult.Unhealthy("The instance is stopping")
            : HealthCheckResult.Healthy("Serving"));
}
