using Microsoft.Extensions.Options;

namespace PredictionApi.Health;

/// <summary>
/// Graceful drain. When the host is told to stop (SIGTERM, Ctrl+C), readiness turns to 503 at once and
/// the instance goes on serving for <see cref="ShutdownOptions.DrainSeconds"/>; only then does Kestrel stop
/// accepting connections and wait for the requests in flight, and after them the group-commit writers
/// finish what is queued. So a balancer that checks /health/ready sends no new request to an instance that
/// is about to close, and no acknowledged upload is lost.
/// </summary>
public sealed class ShutdownDrain(IHostApplicationLifetime lifetime, IOptions<ShutdownOptions> options, ILogger<ShutdownDrain> logger) : IHostedService
{
    private volatile bool _draining;

    /// <summary>True from the moment the host was told to stop.</summary>
    public bool Draining => _draining;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        // Stopping callbacks run before the server stops, and the server keeps serving while they run.
        lifetime.ApplicationStopping.Register(() =>
        {
            _draining = true;
            var drain = TimeSpan.FromSeconds(options.Value.DrainSeconds);
            if (drain > TimeSpan.Zero)
            {
                logger.LogInformation("Stopping: /health/ready answers 503; serving for {Seconds} s more before closing", drain.TotalSeconds);
                Thread.Sleep(drain);
            }
        });
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
