using Amazon.S3;
using Microsoft.Extensions.Options;
using PredictionApi.Observability;

namespace PredictionApi.Storage.InputStores;

/// <summary>
/// An object-storage outage, logged when it starts, while it lasts and when it ends (see <see cref="OutageLog"/>):
/// with the store down every upload fails, and a warning with a stack trace for each flooded the log.
/// </summary>
public sealed class ObjectStoreOutage(IServiceProvider services, IOptions<ObjectStorageOptions> options, ILogger<ObjectStoreOutage> logger)
    : OutageLog($"Object storage (bucket {options.Value.Bucket})", logger)
{
    protected override async Task<bool> AnswersAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            await services.GetRequiredService<IAmazonS3>().HeadBucketAsync(new() { BucketName = options.Value.Bucket }, timeout.Token);
            return true;
        }
        catch (Exception e) when (S3Clients.IsStoreFailure(e) || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return false;
        }
    }

    protected override string Describe(Exception e) => S3Clients.Describe(e);
}
