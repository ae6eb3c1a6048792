using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using PredictionApi.Observability;
using PredictionApi.OpenInference;

namespace PredictionApi.Predictions;

/// <summary>
/// The uploads' admission limits: at most Admission:MaxConcurrentUploads in flight and MaxQueuedUploads waiting
/// (oldest first), holding at most MaxUploadBytes of bodies between them; beyond that an upload is refused with 503
/// and Retry-After at once. It runs before anything else looks at the request (keys, the endpoint), and its answer is
/// written from bytes made once (AdmissionRefusal), because under
/// overload most requests are refusals, and every microsecond they cost is taken from the admitted ones on the
/// same cores. The answer is the problem the rest of the service would write (under /v2, the protocol's error).
/// </summary>
internal sealed class UploadAdmission : IDisposable
{
    private readonly RequestDelegate _next;
    private readonly ServiceMetrics _metrics;
    private readonly ConcurrencyLimiter _limiter;
    private readonly long _maxBytes;
    private readonly string _retryAfter;
    private readonly AdmissionRefusal _tooMany;
    private readonly AdmissionRefusal _tooLarge;
    private long _bytes;

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
        _maxBytes = limits.MaxUploadBytes;
        _retryAfter = limits.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        _tooMany = new AdmissionRefusal($"The service is processing as many uploads as it takes at once ({limits.MaxConcurrentUploads}, with {limits.MaxQueuedUploads} waiting); " +
            $"nothing was stored. Retry after {limits.RetryAfterSeconds} s.");
        _tooLarge = new AdmissionRefusal($"The service is holding as much upload data as it takes at once ({limits.MaxUploadBytes / 1048576.0:0.#} MiB of request bodies, " +
            $"counted by Content-Length, or as the endpoint's largest body when none is sent); nothing was stored. Retry after {limits.RetryAfterSeconds} s.");
    }

    public async Task InvokeAsync(HttpContext context)
    {
        if (context.GetEndpoint()?.Metadata.GetMetadata<AdmissionRequired>() is not { } admission)
        {
            await _next(context);
            return;
        }

        // Bytes first: they count the waiting uploads too, and a refusal for them costs nothing to undo.
        var bytes = Math.Min(context.Request.ContentLength ?? admission.LargestBody(context.RequestServices), _maxBytes);
        if (!TryTakeBytes(bytes))
        {
            await RefuseAsync(context, _tooLarge);
            return;
        }

        try
        {
            await AdmitAsync(context);
        }
        finally
        {
            Interlocked.Add(ref _bytes, -bytes);
        }
    }

    private async Task AdmitAsync(HttpContext context)
    {
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

        await RefuseAsync(context, _tooMany);
    }

    /// <summary>Counts <paramref name="bytes"/> in if they fit beside those already taken; at most the whole budget is asked for, so one always fits alone.</summary>
    private bool TryTakeBytes(long bytes)
    {
        var taken = Volatile.Read(ref _bytes);
        while (taken + bytes <= _maxBytes)
        {
            var seen = Interlocked.CompareExchange(ref _bytes, taken + bytes, taken);
            if (seen == taken)
            {
                return true;
            }

            taken = seen;
        }

        return false;
    }

    private Task RefuseAsync(HttpContext context, AdmissionRefusal refusal)
    {
        _metrics.Refusals.Add(1, new("status", StatusCodes.Status503ServiceUnavailable), new("title", AdmissionRefusal.Title));
        var response = context.Response;
        response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        response.Headers.RetryAfter = _retryAfter;
        byte[] body;
        if (OpenInferenceApi.Owns(context.Request.Path))
        {
            response.ContentType = "application/json";
            body = refusal.InferenceError;
        }
        else
        {
            // Trace ids are hex, dashes and colons: nothing to escape.
            var traceId = Encoding.ASCII.GetBytes(Activity.Current?.Id ?? context.TraceIdentifier);
            response.ContentType = "application/problem+json";
            body = [.. refusal.ProblemBeforeTraceId, .. traceId, .. AdmissionRefusal.ProblemAfterTraceId];
        }

        response.ContentLength = body.Length;
        return response.Body.WriteAsync(body, context.RequestAborted).AsTask();
    }

    public void Dispose() => _limiter.Dispose();
}
