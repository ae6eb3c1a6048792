using Npgsql;

namespace PredictionApi.Storage.InputStores;

/// <summary>
/// Retries queued object deletes: at start-up, when woken by a delete, and whenever a retry falls due;
/// of several instances on one database only the <see cref="JobLeader"/> does.
/// </summary>
internal sealed class ObjectDeletionWorker(ObjectDeletions deletions, JobLeader leader, ILogger<ObjectDeletionWorker> logger) : BackgroundService
{
    // Another instance may queue work this one is not woken for.
    private static readonly TimeSpan MaxIdle = TimeSpan.FromSeconds(30);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!deletions.Active)
        {
            // Inputs are kept in PostgreSQL; queued keys wait for an instance with object storage configured.
            return;
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            var wait = MaxIdle;
            try
            {
                // Of several instances only the one running the periodic jobs works the queue; the others ask again later.
                if (await leader.IsLeaderAsync(stoppingToken))
                {
                    await deletions.ProcessDueAsync(stoppingToken);
                    if (await deletions.SecondsUntilNextAsync(stoppingToken) is { } seconds)
                    {
                        wait = TimeSpan.FromSeconds(Math.Clamp(seconds, 0.1, MaxIdle.TotalSeconds));
                    }
                }
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException && !stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning("The object deletion queue could not be processed: {Reason}; retrying", e.Message);
                wait = TimeSpan.FromSeconds(5);
            }

            try
            {
                await deletions.WaitForWorkAsync(wait, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
