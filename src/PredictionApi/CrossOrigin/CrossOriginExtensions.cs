using Microsoft.Extensions.Options;

namespace PredictionApi.CrossOrigin;

/// <summary>
/// CORS for the origins in Cors:AllowedOrigins. Keys travel in headers (Authorization, X-API-Key), never cookies, so
/// credentials are not allowed; a preflight is answered before keys are checked, as browsers send it without them.
/// </summary>
internal static class CrossOriginExtensions
{
    // What a page on another origin needs to send, and to read back, for everything the API does.
    private static readonly string[] RequestHeaders = ["Authorization", "X-API-Key", "Idempotency-Key", "Content-Type"];
    private static readonly string[] ResponseHeaders = ["Idempotent-Replayed", "Retry-After", "Location", "WWW-Authenticate"];

    public static WebApplicationBuilder AddCrossOrigin(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<CrossOriginOptions>().BindConfiguration(CrossOriginOptions.Section)
            .Validate(o => o.AllowedOrigins.All(IsOrigin),
                "Cors:AllowedOrigins must list origins such as https://labels.example.com (scheme, host and optional port, no path, no '*').")
            .ValidateOnStart();
        builder.Services.AddCors();
        return builder;
    }

    /// <summary>Before the keys' middleware: a preflight carries no key and is answered here.</summary>
    public static WebApplication UseCrossOrigin(this WebApplication app)
    {
        var origins = app.Services.GetRequiredService<IOptions<CrossOriginOptions>>().Value.AllowedOrigins;
        if (origins.Length > 0)
        {
            app.UseCors(policy => policy
                .WithOrigins(origins)
                .WithMethods(HttpMethods.Get, HttpMethods.Head, HttpMethods.Post, HttpMethods.Patch, HttpMethods.Delete)
                .WithHeaders(RequestHeaders)
                .WithExposedHeaders(ResponseHeaders)
                .SetPreflightMaxAge(TimeSpan.FromMinutes(10)));
        }

        return app;
    }

    private static bool IsOrigin(string origin) =>
        Uri.TryCreate(origin, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
        && uri.AbsolutePath == "/" && !origin.EndsWith('/') && string.IsNullOrEmpty(uri.Query) && !origin.Contains('*');
}
