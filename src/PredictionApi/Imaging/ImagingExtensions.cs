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
        // Threads up to this minimum start at once. With the runtime's one per core (and the pool capped), a liveness probe
        // during a batch of decoding bombs took 0.66-0.91 s in four of seven full test runs (DecodingBudgetTests); the cause
        // was not found, and this setting has kept it under 500 ms in every run before.
        ThreadPool.GetMinThreads(out var workers, out var io);
        ThreadPool.SetMinThreads(Math.Max(workers, 16 * Environment.ProcessorCount), io);
        return builder;
    }
}
