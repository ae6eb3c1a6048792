using System.Text.Json;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace PredictionApi.Health;

/// <summary>
/// /health/live: the process answers. /health/ready: the model is loaded and PostgreSQL answers a query,
/// so a load balancer or orchestrator sends traffic only where a prediction can be stored; 503 too from
/// the moment the instance is told to stop (see <see cref="ShutdownDrain"/>).
/// </summary>
public static class HealthApi
{
    /// <summary>The checks /health/ready (and /v2/health/ready) run.</summary>
    public const string ReadyTag = "ready";

    // Health checks answer any method unless told otherwise; probes only read.
    private static readonly HttpMethodMetadata ReadOnly = new([HttpMethods.Get, HttpMethods.Head]);

    public static WebApplicationBuilder AddHealth(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<ShutdownOptions>()
            .BindConfiguration(ShutdownOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<ShutdownDrain>();
        builder.Services.AddHostedService(services => services.GetRequiredService<ShutdownDrain>());
        // The host waits for the drain, the requests in flight and the queued writes, not only its default 30 s.
        builder.Services.AddOptions<HostOptions>().Configure<IOptions<ShutdownOptions>>((host, shutdown) =>
            host.ShutdownTimeout = TimeSpan.FromSeconds(shutdown.Value.DrainSeconds + 30));
        builder.Services.AddHealthChecks()
            .AddCheck<DrainHealthCheck>("drain", tags: [ReadyTag])
            .AddCheck<ModelHealthCheck>("model", tags: [ReadyTag])
            .AddCheck<DatabaseHealthCheck>("database", tags: [ReadyTag]);
        return builder;
    }

    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder routes)
    {
        routes.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = WriteAsync })
            .WithMetadata(ReadOnly).AllowAnonymous().WithTags("Health").WithSummary("200 while the process is up.");
        routes.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains(ReadyTag), ResponseWriter = WriteAsync })
            .WithMetadata(ReadOnly).AllowAnonymous().WithTags("Health").WithSummary("200 when the model is loaded and the database answers; 503 otherwise.");
        return routes;
    }

    private static Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        context.Response.Headers.CacheControl = "no-store";
        return JsonSerializer.SerializeAsync(context.Response.Body, new
        {
            status = report.Status.ToString(),
            checks = report.Entries.ToDictionary(e => e.Key, e => new { status = e.Value.Status.ToString(), description = e.Value.Description }),
        }, cancellationToken: context.RequestAborted);
    }
}
