using System.Net;
using Amazon;
using Amazon.Runtime;
using Amazon.S3;

namespace PredictionApi.Storage.InputStores;

/// <summary>Builds the AWS SDK client from <see cref="ObjectStorageOptions"/> and turns its failures into answers for callers.</summary>
public static class S3Clients
{
    public static AmazonS3Client Create(ObjectStorageOptions options)
    {
        var config = new AmazonS3Config
        {
            ForcePathStyle = options.ForcePathStyle,
            Timeout = TimeSpan.FromSeconds(options.TimeoutSeconds),
            // A request waits for the caller; the deletion outbox does the patient retrying.
            MaxErrorRetry = 2,
            // Plain signed payloads: S3-compatible servers do not all accept aws-chunked trailing checksums.
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        };
        if (!string.IsNullOrWhiteSpace(options.ServiceUrl))
        {
            config.ServiceURL = options.ServiceUrl;
            config.AuthenticationRegion = options.Region;
        }
        else
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(options.Region);
        }

        return string.IsNullOrEmpty(options.AccessKey)
            ? new AmazonS3Client(config)
            : new AmazonS3Client(new BasicAWSCredentials(options.AccessKey, options.SecretKey), config);
    }

    /// <summary>True when the store answered that the object (or bucket) does not exist.</summary>
    public static bool IsNotFound(Exception e) => e is AmazonS3Exception { StatusCode: HttpStatusCode.NotFound };

    /// <summary>True for the failures of talking to the store: error answers, refused connections, timeouts.</summary>
    public static bool IsStoreFailure(Exception e) =>
        e is AmazonServiceException or AmazonClientException or HttpRequestException or IOException
        // A store that does not answer: the SDK's own timeout surfaces as either (callers rule out their own cancellation).
        || e is TimeoutException or TaskCanceledException;

    /// <summary>
    /// The bucket itself is missing: a configuration to fix, not an outage to wait out. A HEAD of a bucket answers a bare
    /// 404 (no body to carry the NoSuchBucket code); a missing object is NoSuchKey, which this is not.
    /// </summary>
    public static bool IsMissingBucket(Exception e) =>
        e is AmazonS3Exception { ErrorCode: "NoSuchBucket" } or AmazonS3Exception { StatusCode: System.Net.HttpStatusCode.NotFound, ErrorCode: not "NoSuchKey" };

    /// <summary>What went wrong, for logs and the deletion outbox: the S3 error code or the exception message, never credentials.</summary>
    public static string Describe(Exception e) => e switch
    {
        AmazonS3Exception s3 => $"{(int)s3.StatusCode} {s3.ErrorCode}: {s3.Message}",
        _ => e.GetBaseException().Message,
    };
}
