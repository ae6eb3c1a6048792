using Microsoft.AspNetCore.Http.Features;

namespace PredictionApi.Problems;

/// <summary>
/// A request refused before its body was read (no key, Too busy, a body too large or of the wrong type) still has its
/// body on the wire. Kestrel drains it after the answer (for at most 5 s, discarding it), but a body over Kestrel's own
/// limit (30 MB) it resets instead, and a client that sends its whole body before reading (fetch, axios, Python) then
/// sees a broken pipe, never the refusal. With no limit left on an unread body, the drain lets the answer reach it.
/// </summary>
internal static class UnreadBodies
{
    public static IApplicationBuilder UseDrainedRefusals(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        await next(context);
        // Read-only once the body has been read: an endpoint's own limit then stays as it set it.
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = null;
        }
    });
}
