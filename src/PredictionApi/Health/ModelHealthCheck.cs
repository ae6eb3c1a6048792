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

        // Ready means the default model answers; other models' states are in GET /models. Probes come often: this
        // reads the registry only, never the models directory.
        var serving = registry.Serving;
        var loaded = string.Join(", ", serving.Select(s => $"{s.Name} {s.Version}"));
        return Task.FromResult(serving.Any(s => s.Name == registry.DefaultName)
            ? HealthCheckResult.Healthy($"{loaded} loaded")
            : HealthCheckResult.Unhealthy($"the default model {registry.DefaultName} is not loaded; loaded: {(loaded.Length == 0 ? "none" : loaded)}"));
    }
}
