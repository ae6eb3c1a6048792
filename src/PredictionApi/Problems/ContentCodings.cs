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
    public static IApplicationBuilder UseIdentityBodiesOnly(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        // Every request passes here and almost none has the header: it is looked at before anything is allocated, and
        // the request goes on without an async frame of this middleware's own.
        var header = context.Request.Headers.ContentEncoding;
        return header.Count == 0 || Codings(header) is not { Length: > 0 } codings
            || context.Features.Get<IHttpRequestBodyDetectionFeature>() is { CanHaveBody: false }
            ? next(context)
            : RefuseAsync(context, codings);
    });

    private static async Task RefuseAsync(HttpContext context, string[] codings)
    {
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
    }

    /// <summary>The codings applied to the body, without identity (which means none).</summary>
    private static string[] Codings(Microsoft.Extensions.Primitives.StringValues header) =>
        header.SelectMany(v => (v ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .Where(c => !c.Equals("identity", StringComparison.OrdinalIgnoreCase))
            .ToArray();
}
