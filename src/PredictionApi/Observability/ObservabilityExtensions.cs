using Microsoft.AspNetCore.Routing;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using PredictionApi.Auth;
using PredictionApi.Inference;

namespace PredictionApi.Observability;

internal static class ObservabilityExtensions
{
    /// <summary>The service.name of traces and metrics unless OTEL_SERVICE_NAME or OTEL_RESOURCE_ATTRIBUTES gives one.</summary>
    public const string ServiceName = "predictionapi";

    /// <summary>
    /// Metrics for Prometheus at /metrics (ASP.NET Core's request durations, Kestrel's connections, Npgsql's
    /// pool, the service's own) and traces of each request with its stages and Npgsql's commands, exported
    /// over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set.
    /// </summary>
    public static WebApplicationBuilder AddObservability(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<ServiceMetrics>();
        var otel = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource =>
            {
                // Traces and target_info name the service, not "unknown_service:dotnet"; the standard variables still rename it.
                if (string.IsNullOrWhiteSpace(builder.Configuration["OTEL_SERVICE_NAME"])
                    && builder.Configuration["OTEL_RESOURCE_ATTRIBUTES"]?.Contains("service.name=", StringComparison.Ordinal) != true)
                {
                    resource.AddService(ServiceName, serviceVersion: typeof(ObservabilityExtensions).Assembly.GetName().Version?.ToString());
                }
            })
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddMeter("Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "Npgsql", "System.Runtime", ServiceMetrics.Name)
                .AddPrometheusExporter());
        // Spans are recorded only when something exports them: recording every request's spans to drop them costs
        // the uploads CPU (and, under overload, every refusal too). The trace_id in problem details is there either
        // way, from the activity ASP.NET Core starts for each request.
        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            otel.WithTracing(tracing => tracing
                    .AddAspNetCoreInstrumentation(options => options.Filter = context => !context.Request.Path.StartsWithSegments("/metrics"))
                    .AddSource(ServiceMetrics.Name, "Npgsql"))
                .UseOtlpExporter();
        }

        return builder;
    }

    /// <summary>One log line per request (<see cref="RequestLog"/>); first in the pipeline, so it sees every answer.</summary>
    public static IApplicationBuilder UseRequestLog(this IApplicationBuilder app) => app.UseMiddleware<RequestLog>();

    /// <summary>GET /metrics in Prometheus's text format, and the model's info gauge.</summary>
    public static IEndpointRouteBuilder MapMetrics(this IEndpointRouteBuilder routes)
    {
        // The model is loaded when the host starts (a broken one fails the start there), read at each scrape.
        var services = routes.ServiceProvider;
        var registry = services.GetRequiredService<ModelRegistry>();
        services.GetRequiredService<ServiceMetrics>().ObserveModels(() => registry.Loaded.Select(m => (m.Spec.Name, m.Spec.Version, m.Spec.Sha256)));
        // Public by default (scrapers rarely carry keys); with Auth:MetricsPublic=false it needs the read scope.
        // The exporter maps the path for every method; only GET (and HEAD, routed as GET) reads it, others are 405 with Allow.
        routes.MapPrometheusScrapingEndpoint("/metrics").WithTags("Health")
            .WithMetadata(new HttpMethodMetadata([HttpMethods.Get]))
            .RequireScope(ApiScope.Read)
            .AllowAnonymousWhen(auth => auth.MetricsPublic);
        return routes;
    }
}
