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
        // Writes and reads inputs through the configured input store (PostgreSQL or object storage).
        builder.Services.AddSingleton<PredictionRecorder>();
        builder.Services.AddSingleton<InputImages>();
        return builder;
    }
}
