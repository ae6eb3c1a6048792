using System.ComponentModel.DataAnnotations;

namespace PredictionApi.Predictions;

/// <summary>
/// Configuration section "Admission": how much upload work the service takes on at once. Beyond it an
/// upload is refused at once with 503 and Retry-After, instead of joining a queue whose wait grows
/// without bound; health probes, reads and the web page are never held behind uploads.
/// </summary>
public sealed class AdmissionOptions
{
    public const string Section = "Admission";

    /// <summary>Uploads (single or batch) processed at once (default 64).</summary>
    [Range(1, 10_000, ErrorMessage = "Admission:MaxConcurrentUploads must be between 1 and 10000 (default 64).")]
    public int MaxConcurrentUploads { get; set; } = 64;

    /// <summary>Uploads waiting for a turn beyond those (default 64); more are refused with 503.</summary>
    [Range(0, 100_000, ErrorMessage = "Admission:MaxQueuedUploads must be between 0 and 100000 (default 64).")]
    public int MaxQueuedUploads { get; set; } = 64;

    /// <summary>
    /// Bytes of upload bodies taken on at once, running and waiting together (default 256 MiB): each request counts as
    /// its Content-Length, or, sent without one, as the most its endpoint reads. A request larger than this is taken
    /// alone. It bounds the memory uploads hold, which the count alone does not: 64 batches of 64 MiB are 4 GiB.
    /// </summary>
    [Range(65_536, 1L << 40, ErrorMessage = "Admission:MaxUploadBytes must be between 65536 and 1099511627776 (default 268435456, 256 MiB).")]
    public long MaxUploadBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>Seconds a refused client is told to wait in Retry-After (default 1).</summary>
    [Range(1, 3600, ErrorMessage = "Admission:RetryAfterSeconds must be between 1 and 3600 (default 1).")]
    public int RetryAfterSeconds { get; set; } = 1;
}
