namespace PredictionApi.Problems;

/// <summary>
/// Headers every response carries: no content-type sniffing (a stored image is served only as the type it
/// was detected as), no framing, no referrer, and for the web page a Content-Security-Policy that allows only
/// its own scripts, styles and API. The API reference at /scalar is left without the policy: its bundled script
/// writes inline styles. The endpoints' answers (stored inputs, probabilities, statistics) and every error are
/// <c>Cache-Control: no-store</c> unless the endpoint says otherwise: a shared cache or proxy must not keep one
/// client's data for the next, and keys sent as X-API-Key do not stop a shared cache the way Authorization does.
/// The web page's static files keep their validators and stay cacheable.
/// </summary>
internal static class SecurityHeaders
{
    private const string PagePolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; " +
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        // Set as the response starts, so answers written after an exception cleared the headers carry them too.
        context.Response.OnStarting(() =>
        {
            var headers = context.Response.Headers;
            headers.XContentTypeOptions = "nosniff";
            headers.XFrameOptions = "DENY";
            headers["Referrer-Policy"] = "no-referrer";
            if (!context.Request.Path.StartsWithSegments("/scalar"))
            {
                headers.ContentSecurityPolicy = PagePolicy;
            }

            // Static files are served only where no endpoint matched; what an endpoint answers, and any error, is not kept.
            if (headers.CacheControl.Count == 0 && (context.GetEndpoint() is not null || context.Response.StatusCode >= 400))
            {
                headers.CacheControl = "no-store";
            }

            return Task.CompletedTask;
        });
        return next(context);
    });
}
