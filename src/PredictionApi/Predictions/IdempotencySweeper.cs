using Microsoft.Extensions.Options;
using Npgsql;
using PredictionApi.Storage;

namespace PredictionApi.Predictions;

/// <summary>
/// Deletes expired idempotency answers every Batch:IdempotencySweepSeconds (an hour), so the table holds
/// about a day of uploads. Of several instances on one database only the <see cref="JobLeader"/> sweeps.
/// </summary>
internal sealed class IdempotencySweeper(NpgsqlDataSource dataSource, JobLeader leader, IOptions<BatchOptions> options, ILogger<IdempotencySweeper> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(options.Value.IdempotencySweepSeconds));
        do
        {
            try
            {
                if (!await leader.IsLeaderAsync(stoppingToken))
                {
                    continue;
                }

                var deleted = await IdempotencyKeys.DeleteExpiredAsync(dataSource, options.Value.IdempotencyKeyHours, stoppingToken);
                logger.LogDebug("Swept expired idempotency keys: {Count} deleted", deleted);
                if (deleted > 0)
                {
                    logger.LogInformation("Deleted {Count} expired idempotency keys", deleted);
                }
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException && !stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning("Expired idempotency keys could not be deleted: {Reason}", e.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }
}
