using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;
using PredictionApi.Observability;

namespace PredictionApi.Auth;

/// <summary>
/// Admits a request by its API key once keys are required: 401 without a valid key, 403 without the scope the
/// endpoint declares (admin when it declares none), 429 over the key's requests per minute. Endpoints marked
/// AllowAnonymous (health, the OpenAPI document, the reference) and requests that reach no endpoint (the web
/// page's static files, unknown paths) pass untouched.
/// </summary>
internal sealed class ApiKeyMiddleware(RequestDelegate next, KeyVerifier verifier, KeyRateLimiter limiter, IOptions<AuthOptions> options, ServiceMetrics metrics)
{
    private const string Challenge = "Bearer realm=\"PredictionApi\"";

    public async Task InvokeAsync(HttpContext context)
    {
        var endpoint = context.GetEndpoint();
        var settings = options.Value;
        if (endpoint is null
            || endpoint.Metadata.GetMetadata<IAllowAnonymous>() is not null
            || endpoint.Metadata.GetMetadata<KeyExemption>() is { } exemption && exemption.Applies(settings)
            || !await verifier.RequiredAsync(context.RequestAborted))
        {
            await next(context);
            return;
        }

        var presented = ApiKeyTokens.Read(context.Request);
        if (presented is null)
        {
            context.Response.Headers.WWWAuthenticate = Challenge;
            await RefuseAsync(context, StatusCodes.Status401Unauthorized, "API key required",
                "This service requires an API key. Send it as 'Authorization: Bearer <key>' or 'X-API-Key: <key>'; an operator creates one with the 'keys create' command.");
            return;
        }

        var key = await verifier.FindAsync(presented, context.RequestAborted);
        if (key is not null)
        {
            // Named from here on, refused or not: in the request's log line (who still uses a revoked key?),
            // and as created_by of what it stores.
            context.Features.Set(new CallerKey(key.Name));
        }

        var now = DateTime.UtcNow;
        var invalid = key switch
        {
            null => "The API key is not one this service issued. Check that it was copied whole, or ask an operator for a new one.",
            { RevokedAt: { } revoked } => $"The API key '{key.Name}' was revoked at {revoked:yyyy-MM-dd HH:mm:ss} UTC. Ask an operator for a new one.",
            _ when key.IsExpired(now) => $"The API key '{key.Name}' expired at {key.ExpiresAt:yyyy-MM-dd HH:mm:ss} UTC. Ask an operator for a new one.",
            _ => null,
        };
        if (invalid is not null)
        {
            context.Response.Headers.WWWAuthenticate = Challenge + ", error=\"invalid_token\"";
            await RefuseAsync(context, StatusCodes.Status401Unauthorized, "Invalid API key", invalid);
            return;
        }

        // A method the path does not have reaches routing's 405 endpoint, which declares no scope: any valid key
        // gets the 405 with Allow, instead of a 403 telling it to get the admin scope for a request nothing answers.
        var required = endpoint.Metadata.GetMetadata<RequiredScope>()?.Scope ?? ApiScope.Admin;
        if (!IsMethodRefusal(endpoint) && !key!.Allows(required))
        {
            context.Response.Headers.WWWAuthenticate = $"{Challenge}, error=\"insufficient_scope\", scope=\"{required.Name()}\"";
            await RefuseAsync(context, StatusCodes.Status403Forbidden, "Scope required",
                $"The API key '{key.Name}' lacks the '{required.Name()}' scope this request needs; it has {string.Join(", ", key.Scopes)}. " +
                $"An operator can create a key with it: keys create --name NAME --scopes {required.Name()}.");
            return;
        }

        var perMinute = key!.RequestsPerMinute ?? settings.DefaultRequestsPerMinute;
        if (perMinute > 0 && limiter.TryAcquire(key.Name, perMinute) is { } retryAfter)
        {
            metrics.RateLimited.Add(1, new KeyValuePair<string, object?>("key", key.Name));
            context.Response.Headers.RetryAfter = retryAfter.ToString(System.Globalization.CultureInfo.InvariantCulture);
            await RefuseAsync(context, StatusCodes.Status429TooManyRequests, "Too many requests",
                $"The API key '{key.Name}' may make {perMinute} requests per minute; retry after {retryAfter} s.");
            return;
        }

        verifier.Used(key);
        await next(context);
    }

    // Routing's endpoint for a path that exists without the request's method (Microsoft.AspNetCore.Routing.Matching.HttpMethodMatcherPolicy).
    private static bool IsMethodRefusal(Endpoint endpoint) =>
        endpoint.Metadata.Count == 0 && endpoint.DisplayName == "405 HTTP Method Not Supported";

    private static async Task RefuseAsync(HttpContext context, int status, string title, string detail)
    {
        context.Response.StatusCode = status;
        await context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = { Status = status, Title = title, Detail = detail },
        });
    }
}
