using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace PredictionApi.Problems;

/// <summary>
/// A request line or headers over Kestrel's limits get Kestrel's own answer: an empty 414 or 431, with none of the
/// security headers, and the connection closed. So the service takes Kestrel's limits (its defaults: 8 KiB of request
/// line, 32 KiB and 100 fields of headers, which proxies and clients already expect, or what Kestrel:Limits:
/// MaxRequestLineSize, MaxRequestHeadersTotalSize and MaxRequestHeaderCount set) as its own, answers what is over them
/// itself, as problem+json like every other refusal (under /v2 in the protocol's shape), and raises Kestrel's to at
/// least 64 KiB, 256 KiB and 1,000 fields. Past those the empty answer remains: buffering more of a request per
/// connection only to describe it is not worth the memory.
/// </summary>
internal static class RequestLimits
{
    // What Kestrel buffers of one request before it gives up on it.
    private const int KestrelLineBytes = 64 * 1024;
    private const int KestrelHeaderBytes = 256 * 1024;
    private const int KestrelHeaderCount = 1000;

    public static WebApplicationBuilder AddRequestLimits(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<HeaderLimits>();
        builder.Services.AddOptions<KestrelServerOptions>().PostConfigure<HeaderLimits, IConfiguration>((options, service, configuration) =>
        {
            // Kestrel does not bind its Limits section by itself; these three are read here, as the service's limits.
            var section = configuration.GetSection("Kestrel:Limits");
            var limits = options.Limits;
            service.MaxTargetBytes = section.GetValue<int?>(nameof(limits.MaxRequestLineSize)) ?? limits.MaxRequestLineSize;
            service.MaxHeaderBytes = section.GetValue<int?>(nameof(limits.MaxRequestHeadersTotalSize)) ?? limits.MaxRequestHeadersTotalSize;
            service.MaxHeaderCount = section.GetValue<int?>(nameof(limits.MaxRequestHeaderCount)) ?? limits.MaxRequestHeaderCount;
            limits.MaxRequestLineSize = Math.Max(service.MaxTargetBytes, KestrelLineBytes);
            limits.MaxRequestHeadersTotalSize = Math.Max(service.MaxHeaderBytes, KestrelHeaderBytes);
            limits.MaxRequestHeaderCount = Math.Max(service.MaxHeaderCount, KestrelHeaderCount);
        });
        return builder;
    }

    public static IApplicationBuilder UseRequestLimits(this IApplicationBuilder app)
    {
        var service = app.ApplicationServices.GetRequiredService<HeaderLimits>();
        return app.Use((context, next) =>
        {
            // Every request passes here: a length, a count and one walk over a dozen headers, with no async frame of its own.
            var target = context.Features.Get<IHttpRequestFeature>()?.RawTarget.Length ?? 0;
            if (target > service.MaxTargetBytes)
            {
                return RefuseAsync(context, StatusCodes.Status414RequestUriTooLong, "URI too long",
                    $"The request target (path and query) is {target} bytes; at most {service.MaxTargetBytes} are accepted. Nothing was read or stored.");
            }

            var headers = context.Request.Headers;
            if (headers.Count > service.MaxHeaderCount)
            {
                return RefuseAsync(context, StatusCodes.Status431RequestHeaderFieldsTooLarge, "Request headers too large",
                    $"The request has {headers.Count} header fields; at most {service.MaxHeaderCount} are accepted. Nothing was read or stored.");
            }

            var bytes = HeaderBytes(headers);
            return bytes > service.MaxHeaderBytes
                ? RefuseAsync(context, StatusCodes.Status431RequestHeaderFieldsTooLarge, "Request headers too large",
                    $"The request's headers are {bytes} bytes; at most {service.MaxHeaderBytes} are accepted. Nothing was read or stored.")
                : next(context);
        });
    }

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
