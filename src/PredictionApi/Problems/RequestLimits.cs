using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace PredictionApi.Problems;

/// <summary>
/// A request line or headers over Kestrel's limits get Kestrel's own answer: an empty 414 or 431, with none of the
/// security headers, and the connection closed. So Kestrel's limits are set well above the service's, and the service
/// refuses what is over its own limits itself, as problem+json like every other refusal (under /v2 in the protocol's
/// shape). The service's limits are Kestrel's defaults (8 KiB of request target, 32 KiB and 100 fields of headers),
/// which proxies and clients already expect. Past Kestrel's raised limits the empty answer remains: buffering more of a
/// request per connection only to describe it is not worth the memory.
/// </summary>
internal static class RequestLimits
{
    public const int MaxTargetBytes = 8 * 1024;
    public const int MaxHeaderBytes = 32 * 1024;
    public const int MaxHeaderCount = 100;

    // What Kestrel buffers of one request before it gives up on it (its defaults are the service's limits above).
    public const int KestrelLineBytes = 64 * 1024;
    public const int KestrelHeaderBytes = 256 * 1024;
    public const int KestrelHeaderCount = 1000;

    /// <summary>Raises Kestrel's limits to the ones above, unless the operator configured them (Kestrel:Limits).</summary>
    public static WebApplicationBuilder AddRequestLimits(this WebApplicationBuilder builder)
    {
        builder.Services.PostConfigure<KestrelServerOptions>(options =>
        {
            var defaults = new KestrelServerLimits();
            var limits = options.Limits;
            if (limits.MaxRequestLineSize == defaults.MaxRequestLineSize)
            {
                limits.MaxRequestLineSize = KestrelLineBytes;
            }

            if (limits.MaxRequestHeadersTotalSize == defaults.MaxRequestHeadersTotalSize)
            {
                limits.MaxRequestHeadersTotalSize = KestrelHeaderBytes;
            }

            if (limits.MaxRequestHeaderCount == defaults.MaxRequestHeaderCount)
            {
                limits.MaxRequestHeaderCount = KestrelHeaderCount;
            }
        });
        return builder;
    }

    public static IApplicationBuilder UseRequestLimits(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        // Every request passes here: a length, a count and one walk over a dozen headers, with no async frame of its own.
        var target = context.Features.Get<IHttpRequestFeature>()?.RawTarget.Length ?? 0;
        if (target > MaxTargetBytes)
        {
            return RefuseAsync(context, StatusCodes.Status414RequestUriTooLong, "URI too long",
                $"The request target (path and query) is {target} bytes; at most {MaxTargetBytes} are accepted. Nothing was read or stored.");
        }

        var headers = context.Request.Headers;
        if (headers.Count > MaxHeaderCount)
        {
            return RefuseAsync(context, StatusCodes.Status431RequestHeaderFieldsTooLarge, "Request headers too large",
                $"The request has {headers.Count} header fields; at most {MaxHeaderCount} are accepted. Nothing was read or stored.");
        }

        var bytes = HeaderBytes(headers);
        return bytes > MaxHeaderBytes
            ? RefuseAsync(context, StatusCodes.Status431RequestHeaderFieldsTooLarge, "Request headers too large",
                $"The request's headers are {bytes} bytes; at most {MaxHeaderBytes} are accepted. Nothing was read or stored.")
            : next(context);
    });

    /// <summary>The headers' size as Kestrel counts it: each field's name, value, ": " and line end.</summary>
    private static long HeaderBytes(IHeaderDictionary headers)
    {
        long total = 0;
        foreach (var (name, values) in headers)
        {
            foreach (var value in values)
            {
                total += name.Length + (value?.Length ?? 0) + 4;
            }
        }

        return total;
    }

    private static Task RefuseAsync(HttpContext context, int status, string title, string detail)
    {
        context.Response.StatusCode = status;
        return context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = { Status = status, Title = title, Detail = detail },
        }).AsTask();
    }
}
