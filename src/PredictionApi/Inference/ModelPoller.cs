using Microsoft.Extensions.Options;

namespace PredictionApi.Inference;

/// <summary>Model:PollSeconds: looks at Model:Directory now and then and loads new models and versions (load-then-swap).</summary>
internal sealed class ModelPoller(ModelRegistry registry, ModelWarmup warmup, IOptions<ModelOptions> options, ILogger<ModelPoller> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var seconds = options.Value.PollSeconds;
        if (seconds <= 0)
        {
            return;
        }

        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(seconds));
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            if (!warmup.Ready)
            {
                continue;
            }

            try
            {
                await registry.RefreshAsync(stoppingToken);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                logger.LogWarning("Model:Directory could not be read: {Reason}", e.Message);
            }
        }
    }
}
