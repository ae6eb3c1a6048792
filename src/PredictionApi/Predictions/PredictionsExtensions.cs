using PredictionApi.Inference;

namespace PredictionApi.Predictions;

internal static class PredictionsExtensions
{
    /// <summary>Upload limits and retention settings; writing, reading and deleting stored predictions.</summary>
    public static WebApplicationBuilder AddPredictions(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<UploadOptions>()
            .BindConfiguration(UploadOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddOptions<RetentionOptions>()
            .BindConfiguration(RetentionOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        // Every input a model classifies, classified by its shadow models too, off the request path.
        builder.Services.AddSingleton<ShadowQueue>();
        builder.Services.AddHostedService(services => services.GetRequiredService<ShadowQueue>());
        builder.Services.AddSingleton<PredictionReader>();
        // Writes and reads inputs through the configured input store (PostgreSQL or object storage).
        builder.Services.AddOptions<GroupCommitOptions>()
            .BindConfiguration(GroupCommitOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<GroupCommit>();
        builder.Services.AddHostedService(services => services.GetRequiredService<GroupCommit>());
        builder.Services.AddSingleton<PredictionWriter>();
        builder.Services.AddSingleton<InputImages>();
        builder.Services.AddSingleton<PredictionDeleter>();
        return builder;
    }
}
