namespace PredictionApi.Problems;

/// <summary>
/// HEAD wherever GET works (RFC 9110 §9.1: a general-purpose server must support it): a HEAD request is routed as a
/// GET, and Kestrel sends that answer's status and headers without its body (it knows the request was a HEAD). Without
/// this, every read endpoint answered HEAD with 405. The request log and metrics see the method as GET.
/// </summary>
internal static class HeadRequests
{
    /// <summary>Must come before routing, which it then runs (the middleware after it needs the endpoint).</summary>
    public static WebApplication UseHeadAsGet(this WebApplication app)
    {
        app.Use((context, next) =>
        {
            if (HttpMethods.IsHead(context.Request.Method))
            {
                context.Request.Method = HttpMethods.Get;
            }

            return next(context);
        });
        app.UseRouting();
        return app;
    }

    /// <summary>Adds HEAD to a 405's Allow header when it lists GET: HEAD works wherever GET does, but routing knows only GET.</summary>
    public static void AllowHeadWithGet(HttpResponse response)
    {
        var allow = response.Headers.Allow.ToString();
        var methods = allow.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (methods.Contains(HttpMethods.Get, StringComparer.OrdinalIgnoreCase) && !methods.Contains(HttpMethods.Head, StringComparer.OrdinalIgnoreCase))
        {
            response.Headers.Allow = $"{allow}, {HttpMethods.Head}";
        }
    }
}
