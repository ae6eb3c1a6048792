using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using PredictionApi.Observability;
using PredictionApi.OpenInference;

namespace PredictionApi.Predictions;

/// <summary>
/// The uploads' admission limit: at most Admission:MaxConcurrentUploads in flight and MaxQueuedUploads waiting
/// (oldest first); beyond that an upload is refused with 503 and Retry-After at once. It runs before anything
/// else looks at the request (keys, the endpoint), and its answer is written from bytes made once, because under
/// overload most requests are refusals, and every microsecond they cost is taken from the admitted ones on the
/// same cores. The answer is the problem the rest of the service would write (under /v2, the protocol's error).
/// </summary>
internal sealed class UploadAdmission : IDisposable
{
    private const string Title = "Too busy";
    private const string ProblemType = "https://tools.ietf.org/html/rfc9110#section-15.6.4";

    private readonly RequestDelegate _next;
    private readonly ServiceMetrics _metrics;
    private readonly ConcurrencyLimiter _limiter;
    private readonly string _retryAfter;
    private readonly byte[] _problemBeforeTraceId;
    private readonly byte[] _problemAfterTraceId;
    private readonly byte[] _inferenceError;

    public UploadAdmission(RequestDelegate next, IOptions<AdmissionOptions> options, ServiceMetrics metrics)
    {
        _next = next;
        _metrics = metrics;
        var limits = options.Value;
        _limiter = new ConcurrencyLimiter(new ConcurrencyLimiterOptions
        {
            PermitLimit = limits.MaxConcurrentUploads,
            QueueLimit = limits.MaxQueuedUploads,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        });
        _retryAfter = limits.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        var detail = $"The service is processing as many uploads as it takes at once ({limits.MaxConcurrentUploads}, with {limits.MaxQueuedUploads} waiting); " +
            $"nothing was stored. Retry after {limits.RetryAfterSeconds} s.";
        var problem = $"{{\"type\":{JsonSerializer.Serialize(ProblemType)},\"title\":{JsonSerializer.Serialize(Title)},\"status\":503," +
            $"\"detail\":{JsonSerializer.Serialize(detail)},\"trace_id\":\"";
        _problemBeforeTraceId = Encoding.UTF8.GetBytes(problem);
        _problemAfterTraceId = "\"}"u8.ToArray();
        _inferenceError = Encoding.UTF8.GetBytes($"{{\"error\":{JsonSerializer.Serialize(detail)}}}");
    }

    public async Task InvokeAsync(HttpContext context)
    {
        if (context.GetEndpoint()?.Metadata.GetMetadata<AdmissionRequired>() is null)
        {
            await _next(context);
            return;
        }

        RateLimitLease lease;
        try
        {
            lease = await _limiter.AcquireAsync(1, context.RequestAborted);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client left while waiting for a turn: nobody to answer, and nothing was done.
            return;
        }

        using var held = lease;
        if (lease.IsAcquired)
        {
            await _next(context);
            return;
        }

        await RefuseAsync(context);
    }

    private Task RefuseAsync(HttpContext context)
    {
        _metrics.Refusals.Add(1, new("status", StatusCodes.Status503ServiceUnavailable), new("title", Title));
        var response = context.Response;
        response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        response.Headers.RetryAfter = _retryAfter;
        byte[] body;
        if (OpenInferenceApi.Owns(context.Request.Path))
        {
            response.ContentType = "application/json";
            body = _inferenceError;
        }
        else
        {
            // Trace ids are hex, dashes and colons: nothing to escape.
            var traceId = Encoding.ASCII.GetBytes(Activity.Current?.Id ?? context.TraceIdentifier);
            response.ContentType = "application/problem+json";
            body = [.. _problemBeforeTraceId, .. traceId, .. _problemAfterTraceId];
        }

        response.ContentLength = body.Length;
        return response.Body.WriteAsync(body, context.RequestAborted).AsTask();
    }

    public void Dispose() => _limiter.Dispose();
}
