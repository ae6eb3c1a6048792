using System.Diagnostics;
using PredictionApi.Auth;
using PredictionApi.Inference;
using PredictionApi.Predictions;

namespace PredictionApi.Observability;

/// <summary>
/// One line per request at Information: method, route template (never the raw path, which carries ids),
/// status, duration, model and key name. Probes and scrapes (/health/*, /v2/health/*, /metrics) log at Debug: an
/// orchestrator's every few seconds would drown the rest. ASP.NET Core's own request lines stay at
/// Warning in appsettings.json, so each request is logged once. It also gives a failed request its endpoint back
/// for the metrics and traces written after it.
/// </summary>
internal sealed partial class RequestLog(RequestDelegate next, ILogger<RequestLog> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var started = Stopwatch.GetTimestamp();
        // Taken now (routing ran before this): the exception handler clears the endpoint before it writes a failed request's problem.
        var endpoint = context.GetEndpoint();
        try
        {
            await next(context);
        }
        finally
        {
            // The exception handler cleared the endpoint to write a failed request's problem; given back, the request's
            // span and its http_server_request_duration series keep its route (a 415 on POST /prediction/ is counted there).
            if (endpoint is not null && context.GetEndpoint() is null)
            {
                context.SetEndpoint(endpoint);
            }

            var path = context.Request.Path;
            var level = path.StartsWithSegments("/health") || path.StartsWithSegments("/v2/health") || path.StartsWithSegments("/metrics")
                ? LogLevel.Debug
                : LogLevel.Information;
            if (logger.IsEnabled(level))
            {
                var status = context.Response.StatusCode;
                // No endpoint: the web page's static files, or a path nothing serves. Both are bounded labels.
                var route = (endpoint as RouteEndpoint)?.RoutePattern.RawText ?? (status < 400 ? "(static file)" : "(no route)");
                Write(logger, level, context.Request.Method, route, status, Stopwatch.GetElapsedTime(started).TotalMilliseconds,
                    ModelOf(context, endpoint) ?? "-", CallerKey.NameOf(context) ?? "-");
            }
        }
    }

    /// <summary>
    /// The model a request named (?model=, /models/{name}, /v2/models/{model}), or the default model for uploads that name none, which it
    /// classifies. Anything that is not a possible model name is logged as "(invalid)": the value comes from whoever
    /// sent the request, before any key is checked, and a line break in it would forge log lines.
    /// </summary>
    private static string? ModelOf(HttpContext context, Endpoint? endpoint)
    {
        var route = context.Request.RouteValues;
        var named = context.Request.Query["model"] is [{ Length: > 0 } model] ? model : (route["name"] ?? route["model"]) as string;
        if (named is not null)
        {
            return QueryValues.IsModelName(named) ? named : "(invalid)";
        }

        return endpoint?.Metadata.GetMetadata<RequiredScope>()?.Scope == ApiScope.Predict
            ? context.RequestServices.GetService<ModelRegistry>()?.DefaultName
            : null;
    }

    [LoggerMessage(Message = "{Method} {Route} {Status} {DurationMs:0.0} ms model={Model} key={Key}")]
    private static partial void Write(ILogger logger, LogLevel level, string method, string route, int status, double durationMs, string model, string key);
}
