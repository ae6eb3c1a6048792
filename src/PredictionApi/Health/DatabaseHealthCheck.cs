using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;
using PredictionApi.Storage;

namespace PredictionApi.Health;

internal sealed class DatabaseHealthCheck(NpgsqlDataSource dataSource) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken)
    {
        try
        {
            return await DatabaseProbe.AcceptsWritesAsync(dataSource, cancellationToken)
                ? HealthCheckResult.Healthy("PostgreSQL answers")
                // Not ready, so a load balancer sends uploads elsewhere.
                : HealthCheckResult.Unhealthy("PostgreSQL answers but accepts no writes (read-only), so no prediction can be stored");
        }
        catch (Exception e) when (e is NpgsqlException or OperationCanceledException or TimeoutException)
        {
            // The reason stays in the server log; the endpoint says only that the database is unreachable.
            return HealthCheckResult.Unhealthy("PostgreSQL does not answer", e);
        }
    }
}
