using Microsoft.Extensions.Diagnostics.HealthChecks;
using PredictionApi.Inference;

namespace PredictionApi.Health;

internal sealed class ModelHealthCheck(ModelWarmup warmup, IServiceProvider services) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken)
    {
        if (!warmup.Ready)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy("the model is not loaded yet"));
        }

        var spec = services.GetRequiredService<ImageClassifier>().Spec;
        return Task.FromResult(HealthCheckResult.Healthy($"{spec.Name} {spec.Version} loaded"));
    }
}
