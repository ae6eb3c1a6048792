using System.ComponentModel.DataAnnotations;

namespace PredictionApi.Storage.InputStores;

/// <summary>
/// Configuration section "ObjectStorage": keep uploaded images in an S3-compatible object store
/// (AWS S3, MinIO, s3rver, ...) instead of PostgreSQL. The connection settings are also used by the
/// label command to read s3://bucket/prefix sources.
/// </summary>
public sealed class ObjectStorageOptions
{
    public const string Section = "ObjectStorage";

    /// <summary>Store new inputs in the object store (true) or in PostgreSQL (false, the default).</summary>
    public bool Enabled { get; set; }

    /// <summary>Endpoint of an S3-compatible server, for example http://127.0.0.1:9000; empty for AWS S3 in <see cref="Region"/>.</summary>
    public string? ServiceUrl { get; set; }

    /// <summary>AWS region, also used to sign requests to other servers.</summary>
    public string Region { get; set; } = "us-east-1";

    /// <summary>The bucket inputs are stored in; it must exist.</summary>
    public string? Bucket { get; set; }

    /// <summary>Prepended to every object key; a key is this prefix plus the sha256 of the image in hex.</summary>
    public string Prefix { get; set; } = "inputs/";

    /// <summary>Address buckets as http://host/bucket/key rather than http://bucket.host/key (MinIO and s3rver need this).</summary>
    public bool ForcePathStyle { get; set; }

    /// <summary>Access key id; with <see cref="SecretKey"/>, or leave both empty for the default AWS credential chain.</summary>
    public string? AccessKey { get; set; }

    public string? SecretKey { get; set; }

    /// <summary>GET /prediction/{id}/image answers 302 to a presigned URL instead of streaming the object.</summary>
    public bool PresignedRedirect { get; set; }

    [Range(1, 604800, ErrorMessage = "ObjectStorage:PresignedUrlExpirySeconds must be between 1 and 604800 (7 days; default 300).")]
    public int PresignedUrlExpirySeconds { get; set; } = 300;

    /// <summary>Timeout of one request to the object store.</summary>
    [Range(1, 600, ErrorMessage = "ObjectStorage:TimeoutSeconds must be between 1 and 600 (default 30).")]
    public int TimeoutSeconds { get; set; } = 30;

    /// <summary>Longest wait between retries of a failed object delete (the wait doubles from 1 s up to this).</summary>
    [Range(1, 86400, ErrorMessage = "ObjectStorage:DeletionRetryMaxSeconds must be between 1 and 86400 (default 300).")]
    public int DeletionRetryMaxSeconds { get; set; } = 300;
}
