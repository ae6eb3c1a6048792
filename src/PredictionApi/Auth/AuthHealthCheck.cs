using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace PredictionApi.Auth;

/// <summary>
/// Says in /health/ready whether API keys are required ("on") or the service is open ("off"). Never unhealthy:
/// whether the database answers is the database check's business.
/// </summary>
internal sealed class AuthHealthCheck(KeyVerifier verifier) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            return HealthCheckResult.Healthy(await verifier.RequiredAsync(cancellationToken)
                ? "on: every request needs an API key, except health, metrics (unless Auth:MetricsPublic=false), the web page and the API reference"
                : "off: no API key exists, so every endpoint answers without one; 'keys create' makes the first and turns keys on");
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            return HealthCheckResult.Healthy("unknown: the database does not answer, so requests that need a key are refused until it does");
        }
    }
}
