using Microsoft.AspNetCore.Cors.Infrastructure;
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
        // Checked when the host starts, so a wrong origin is the one-line start failure every other setting gives.
        builder.Services.AddOptions<CrossOriginOptions>().BindConfiguration(CrossOriginOptions.Section)
            .Validate(o => o.AllowedOrigins.All(IsOrigin),
                "Cors:AllowedOrigins must list origins such as https://labels.example.com (scheme, host and optional port, no path, no '*').")
            .ValidateOnStart();
        builder.Services.AddCors();
        builder.Services.AddOptions<CorsOptions>().Configure<IOptions<CrossOriginOptions>>((cors, ours) => cors.AddDefaultPolicy(policy => policy
            .WithOrigins(ours.Value.AllowedOrigins)
            .WithMethods(HttpMethods.Get, HttpMethods.Head, HttpMethods.Post, HttpMethods.Patch, HttpMethods.Delete)
            .WithHeaders(RequestHeaders)
            .WithExposedHeaders(ResponseHeaders)
            .SetPreflightMaxAge(TimeSpan.FromMinutes(10))));
        return builder;
    }

    /// <summary>Only when origins are configured: otherwise nothing answers a preflight, as before CORS existed.</summary>
    public static WebApplication UseCrossOrigin(this WebApplication app)
    {
        if (app.Configuration.GetSection($"{CrossOriginOptions.Section}:{nameof(CrossOriginOptions.AllowedOrigins)}").GetChildren().Any())
        {
            app.UseCors();
        }

        return app;
    }

    private static bool IsOrigin(string origin) =>
        Uri.TryCreate(origin, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
        && uri.AbsolutePath == "/" && !origin.EndsWith('/') && string.IsNullOrEmpty(uri.Query) && !origin.Contains('*');
}
