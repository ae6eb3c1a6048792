using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.OpenApi;
using PredictionApi.Health;

namespace PredictionApi.Auth;

/// <summary>API keys: registration, the middleware, and the endpoint conventions that declare what each endpoint needs.</summary>
public static class AuthExtensions
{
    private static readonly string[] ProblemJson = ["application/problem+json"];

    public static WebApplicationBuilder AddApiKeys(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<AuthOptions>()
            .BindConfiguration(AuthOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<ApiKeyStore>();
        builder.Services.AddSingleton<KeyVerifier>();
        builder.Services.AddSingleton(new KeyRateLimiter(TimeProvider.System));
        // After the database start-up (registered earlier), so the table exists when it looks.
        builder.Services.AddHostedService<AuthStartup>();
        builder.Services.AddHealthChecks().AddCheck<AuthHealthCheck>("auth", tags: [HealthApi.ReadyTag]);
        // The document Program.cs adds ("v1") declares the key and, per operation, the scope.
        builder.Services.Configure<OpenApiOptions>("v1", AuthOpenApi.Describe);
        return builder;
    }

    /// <summary>Checks keys, scopes and per-key limits; place it after the static files, before the endpoints' own limits.</summary>
    public static IApplicationBuilder UseApiKeys(this IApplicationBuilder app) => app.UseMiddleware<ApiKeyMiddleware>();

    /// <summary>
    /// The scope a key needs for these endpoints once keys are required. An endpoint without one needs
    /// <see cref="ApiScope.Admin"/>, so a new endpoint is closed until someone decides otherwise.
    /// </summary>
    public static TBuilder RequireScope<TBuilder>(this TBuilder builder, ApiScope scope) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(
            new RequiredScope(scope),
            new ProducesResponseTypeMetadata(StatusCodes.Status401Unauthorized, typeof(ProblemDetails), ProblemJson),
            new ProducesResponseTypeMetadata(StatusCodes.Status403Forbidden, typeof(ProblemDetails), ProblemJson),
            new ProducesResponseTypeMetadata(StatusCodes.Status429TooManyRequests, typeof(ProblemDetails), ProblemJson));

    /// <summary>These endpoints answer without a key whenever <paramref name="applies"/> holds for the configuration.</summary>
    public static TBuilder AllowAnonymousWhen<TBuilder>(this TBuilder builder, Func<AuthOptions, bool> applies) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new KeyExemption(applies));
}
