using Dapper;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace PredictionApi.Health;

internal sealed class DatabaseHealthCheck(NpgsqlDataSource dataSource) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            await using var connection = await dataSource.OpenConnectionAsync(timeout.Token);
            // A standby (after a failover that left this service on the old primary's replica) or a database set read-only
            // answers reads but refuses every upload: not ready, so a load balancer sends uploads elsewhere.
            var readOnly = await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
                "SELECT current_setting('transaction_read_only') = 'on'", cancellationToken: timeout.Token));
            return readOnly
                ? HealthCheckResult.Unhealthy("PostgreSQL answers but accepts no writes (read-only), so no prediction can be stored")
                : HealthCheckResult.Healthy("PostgreSQL answers");
        }
        catch (Exception e) when (e is NpgsqlException or OperationCanceledException or TimeoutException)
        {
            // The reason stays in the server log; the endpoint says only that the database is unreachable.
            return HealthCheckResult.Unhealthy("PostgreSQL does not answer", e);
        }
    }
}
