using System.Reflection;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using PredictionApi.Health;

namespace PredictionApi.OpenInference;

/// <summary>GET /v2, /v2/health/live and /v2/health/ready: the server as the protocol describes it.</summary>
public static class ServerApi
{
    public const string Name = "PredictionApi";

    // The informational version carries the commit the service was built from, when the build knew it.
    private static readonly string Version =
        typeof(ServerApi).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "1.0.0";

    /// <summary>No protocol extensions (binary tensor data, shared memory, ...) are implemented.</summary>
    public static Ok<ServerMetadata> GetMetadata() => TypedResults.Ok(new ServerMetadata(Name, Version, []));

    public static Ok<ServerLive> GetLive(HttpContext context)
    {
        context.Response.Headers.CacheControl = "no-store";
        return TypedResults.Ok(new ServerLive(true));
    }

    /// <summary>
    /// Ready when /health/ready is: the default model serves, PostgreSQL answers (an inference is stored before it is
    /// answered) and the instance is not draining. Another model that failed does not take the server out of a load
    /// balancer; its own readiness is /v2/models/{model}/ready.
    /// </summary>
    public static async Task<Results<Ok<ServerReady>, JsonHttpResult<ServerReady>>> GetReady(HttpContext context, HealthCheckService health, CancellationToken cancellationToken)
    {
        context.Response.Headers.CacheControl = "no-store";
        var report = await health.CheckHealthAsync(check => check.Tags.Contains(HealthApi.ReadyTag), cancellationToken);
        return report.Status == HealthStatus.Unhealthy
            ? TypedResults.Json(new ServerReady(false), statusCode: StatusCodes.Status503ServiceUnavailable)
            : TypedResults.Ok(new ServerReady(true));
    }
}
