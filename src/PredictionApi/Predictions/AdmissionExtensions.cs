using Microsoft.Extensions.Options;

namespace PredictionApi.Predictions;

internal static class AdmissionExtensions
{
    /// <summary>The uploads' admission limits (Admission section), validated at start.</summary>
    public static WebApplicationBuilder AddAdmission(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<AdmissionOptions>()
            .BindConfiguration(AdmissionOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        return builder;
    }

    /// <summary>Uploads beyond the limit are refused here, before keys, static files or the endpoint see them.</summary>
    public static IApplicationBuilder UseAdmission(this IApplicationBuilder app) => app.UseMiddleware<UploadAdmission>();

    /// <summary>
    /// The endpoint's requests count against the admission limits; <paramref name="largestBody"/> is the most it reads of a
    /// body, counted against Admission:MaxUploadBytes for a body whose length is not declared.
    /// </summary>
    public static TBuilder RequireAdmission<TBuilder>(this TBuilder builder, Func<IServiceProvider, long> largestBody) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new AdmissionRequired(largestBody));
}
