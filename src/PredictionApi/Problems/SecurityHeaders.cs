namespace PredictionApi.Problems;

/// <summary>
/// Headers every response carries: no content-type sniffing (a stored image is served only as the type it
/// was detected as), no framing, and for the web page a Content-Security-Policy that allows only its own
/// scripts, styles and API. The API reference at /scalar is left without the policy: its bundled script
/// writes inline styles.
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
            if (!context.Request.Path.StartsWithSegments("/scalar"))
            {
                headers.ContentSecurityPolicy = PagePolicy;
            }

            return Task.CompletedTask;
        });
        return next(context);
    });
}
