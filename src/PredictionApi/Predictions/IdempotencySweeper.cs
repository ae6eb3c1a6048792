using Microsoft.Extensions.Options;
using Npgsql;

namespace PredictionApi.Predictions;

/// <summary>Deletes expired idempotency answers once an hour, so the table holds about a day of batches.</summary>
internal sealed class IdempotencySweeper(NpgsqlDataSource dataSource, IOptions<BatchOptions> options, ILogger<IdempotencySweeper> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromHours(1));
        do
        {
            try
            {
                var deleted = await IdempotencyKeys.DeleteExpiredAsync(dataSource, options.Value.IdempotencyKeyHours, stoppingToken);
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
