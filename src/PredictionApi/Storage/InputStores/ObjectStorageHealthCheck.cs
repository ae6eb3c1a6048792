using Amazon.S3;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace PredictionApi.Storage.InputStores;

/// <summary>Ready only while the bucket answers: without it no upload can be stored.</summary>
internal sealed class ObjectStorageHealthCheck(IServiceProvider services, IOptions<ObjectStorageOptions> options) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken)
    {
        if (!options.Value.Enabled)
        {
            return HealthCheckResult.Healthy("inputs are kept in PostgreSQL");
        }

        var s3 = services.GetRequiredService<IAmazonS3>();
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            await s3.HeadBucketAsync(new() { BucketName = options.Value.Bucket }, timeout.Token);
            return HealthCheckResult.Healthy($"bucket {options.Value.Bucket} answers");
        }
        catch (Exception e) when (S3Clients.IsStoreFailure(e) || e is OperationCanceledException)
        {
            // The reason goes to the log with the exception; the probe answer only names the bucket.
            return HealthCheckResult.Unhealthy(S3Clients.IsMissingBucket(e)
                ? $"bucket {options.Value.Bucket} does not exist"
                : $"bucket {options.Value.Bucket} does not answer", e);
        }
    }
}
