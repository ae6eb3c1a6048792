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
        // Decoding is synchronous work on pool threads, and a decode may wait for room in the budget; with the
        // pool's default minimum (one thread per core) two waiting decodes left a health probe queued for a
        // second until the pool grew. Threads up to this minimum start at once.
        ThreadPool.GetMinThreads(out var workers, out var io);
        ThreadPool.SetMinThreads(Math.Max(workers, 16 * Environment.ProcessorCount), io);
        return builder;
    }
}
