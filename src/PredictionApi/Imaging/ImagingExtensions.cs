namespace PredictionApi.Imaging;

internal static class ImagingExtensions
{
    public static WebApplicationBuilder AddImaging(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<ImagingOptions>()
            .BindConfiguration(ImagingOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<ImagePreprocessor>();
        return builder;
    }
}
