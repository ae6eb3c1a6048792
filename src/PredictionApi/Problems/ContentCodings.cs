using Microsoft.AspNetCore.Http.Features;

namespace PredictionApi.Problems;

/// <summary>
/// Request bodies are read as sent: nothing here decodes a Content-Encoding. Without this check a gzip body
/// reached the readers as bytes and was refused as "malformed multipart body" or "not valid JSON", which
/// sends the client looking for a fault in a body that is fine. A body with any coding but identity is
/// refused before any endpoint reads it with a 415 that says so, and Accept-Encoding: identity, as RFC 9110
/// §15.5.16 and §12.5.3 ask (under /v2 in the protocol's error shape, like every /v2 refusal).
/// </summary>
internal static class ContentCodings
{
    public static IApplicationBuilder UseIdentityBodiesOnly(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        var codings = Codings(context.Request.Headers.ContentEncoding);
        if (codings.Length == 0 || context.Features.Get<IHttpRequestBodyDetectionFeature>() is { CanHaveBody: false })
        {
            await next(context);
            return;
        }

        context.Response.StatusCode = StatusCodes.Status415UnsupportedMediaType;
        context.Response.Headers.AcceptEncoding = "identity";
        await context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails =
            {
                Status = StatusCodes.Status415UnsupportedMediaType,
                Title = "Unsupported content encoding",
                Detail = $"The body is sent with Content-Encoding '{string.Join(", ", codings)}', which this service does not decode; " +
                    "nothing was read or stored. Send the body uncompressed, without a Content-Encoding header.",
            },
        });
    });

    /// <summary>The codings applied to the body, without identity (which means none).</summary>
    private static string[] Codings(Microsoft.Extensions.Primitives.StringValues header) =>
        header.SelectMany(v => (v ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .Where(c => !c.Equals("identity", StringComparison.OrdinalIgnoreCase))
            .ToArray();
}
