using Microsoft.Extensions.Diagnostics.HealthChecks;
using PredictionApi.Inference;

namespace PredictionApi.Health;

internal sealed class ModelHealthCheck(ModelWarmup warmup, ModelRegistry registry) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken)
    {
        if (!warmup.Ready)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy("the models are not loaded yet"));
        }

        // Ready means the default model answers; other models' states are in GET /models.
        var models = registry.Describe();
        var loaded = string.Join(", ", models.Where(m => m.State == "ready").Select(m => $"{m.Name} {m.Version}"));
        return Task.FromResult(models.Any(m => m.Default && m.State == "ready")
            ? HealthCheckResult.Healthy($"{loaded} loaded")
            : HealthCheckResult.Unhealthy($"the default model {registry.DefaultName} is not loaded; loaded: {(loaded.Length == 0 ? "none" : loaded)}"));
    }
}
