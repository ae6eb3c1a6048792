using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing.Template;
using Microsoft.Net.Http.Headers;

namespace PredictionApi.Problems;

/// <summary>
/// The 415 answer of every endpoint with a body, written from that endpoint's metadata: the media types
/// its <c>Accepts</c> names and its <see cref="BodyHint"/>. Routing refuses a wrong media type before any
/// handler runs and leaves only a bare 415 behind, so the endpoint the request was meant for is looked up
/// again by method and route.
/// </summary>
internal static class RequestBodies
{
    /// <summary>Attaches the advice a 415 answer of this endpoint gives.</summary>
    public static TBuilder WithBodyHint<TBuilder>(this TBuilder builder, string hint) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new BodyHint(hint));

    /// <summary>The detail of a 415 answer to <paramref name="context"/>'s request.</summary>
    public static string UnsupportedMediaTypeDetail(HttpContext context)
    {
        var request = context.Request;
        var sent = string.IsNullOrEmpty(request.ContentType) ? "a body without a content type" : $"'{request.ContentType}'";
        const string reference = "/openapi/v1.json describes every endpoint's body.";
        if (FindEndpoint(context) is not { } endpoint)
        {
            return $"{request.Method} {request.Path} does not accept {sent}. {reference}";
        }

        var accepted = endpoint.Metadata.GetMetadata<IAcceptsMetadata>()!.ContentTypes;
        var hint = endpoint.Metadata.GetMetadata<BodyHint>()?.Text;
        return $"{request.Method} {request.Path} takes {string.Join(" or ", accepted)}, not {sent}. {(hint is null ? "" : hint + " ")}{reference}";
    }

    // ASCII is a subset of UTF-8, so a body declared as ASCII reads the same.
    private static readonly string[] Utf8Names = ["utf-8", "utf8", "us-ascii", "ascii"];

    /// <summary>
    /// The detail of a 415 for a JSON body that declares a charset other than UTF-8, or null. JSON is UTF-8 (RFC 8259
    /// §8.1) and the readers read it so; a body declared as Latin-1 or UTF-16 was refused as "malformed JSON" or "not
    /// valid Unicode text", which does not say that the encoding is what to change.
    /// </summary>
    public static string? NonUtf8JsonDetail(HttpRequest request)
    {
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var mediaType)
            || HeaderUtilities.RemoveQuotes(mediaType.Charset).Value is not { Length: > 0 } charset
            || Utf8Names.Contains(charset, StringComparer.OrdinalIgnoreCase))
        {
            return null;
        }

        return $"The body declares charset={charset}, but JSON is read as UTF-8 only. Send it encoded as UTF-8, with charset=utf-8 or no charset.";
    }

    /// <summary>The endpoint with accepted media types whose method and route match the request, if any.</summary>
    private static RouteEndpoint? FindEndpoint(HttpContext context)
    {
        var request = context.Request;
        foreach (var endpoint in context.RequestServices.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>())
        {
            if (endpoint.Metadata.GetMetadata<IAcceptsMetadata>() is { ContentTypes.Count: > 0 }
                && endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods.Contains(request.Method, StringComparer.OrdinalIgnoreCase) == true
                && new TemplateMatcher(new RouteTemplate(endpoint.RoutePattern), []).TryMatch(request.Path, []))
            {
                return endpoint;
            }
        }

        return null;
    }
}
