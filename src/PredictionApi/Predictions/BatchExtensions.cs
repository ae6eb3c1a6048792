namespace PredictionApi.Predictions;

internal static class BatchExtensions
{
    /// <summary>POST /predictions/batch: its limits and the sweeper of expired idempotency keys.</summary>
    public static WebApplicationBuilder AddBatch(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<BatchOptions>()
            .BindConfiguration(BatchOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddHostedService<IdempotencySweeper>();
        return builder;
    }
}
