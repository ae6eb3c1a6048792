using Amazon.S3;
using Microsoft.Extensions.Options;

namespace PredictionApi.Storage.InputStores;

internal static class InputStorageExtensions
{
    /// <summary>
    /// The input store: PostgreSQL by default, the S3-compatible bucket when ObjectStorage:Enabled is
    /// set (then also the deletion worker and a readiness check of the bucket).
    /// </summary>
    public static WebApplicationBuilder AddInputStorage(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<ObjectStorageOptions>()
            .BindConfiguration(ObjectStorageOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<ObjectStorageOptions>, ObjectStorageOptionsValidator>();
        builder.Services.AddSingleton<ObjectDeletions>();

        // Decided when first resolved, so configuration added after this call (tests, hosts) still counts.
        builder.Services.AddSingleton<IAmazonS3>(sp => S3Clients.Create(sp.GetRequiredService<IOptions<ObjectStorageOptions>>().Value));
        builder.Services.AddSingleton<ObjectStoreOutage>();
        builder.Services.AddSingleton<S3InputStore>();
        builder.Services.AddSingleton<IInputStore>(sp => sp.GetRequiredService<IOptions<ObjectStorageOptions>>().Value.Enabled
            ? sp.GetRequiredService<S3InputStore>()
            : new DatabaseInputStore());
        builder.Services.AddHostedService<ObjectDeletionWorker>();
        builder.Services.AddHealthChecks().AddCheck<ObjectStorageHealthCheck>("object_storage", tags: ["ready"]);
        return builder;
    }
}
