namespace PredictionApi.Predictions;

internal static class PredictionsExtensions
{
    public static WebApplicationBuilder AddPredictions(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<UploadOptions>()
            .BindConfiguration(UploadOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<PredictionStore>();
        return builder;
    }
}
