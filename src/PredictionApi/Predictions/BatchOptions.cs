using System.ComponentModel.DataAnnotations;

namespace PredictionApi.Predictions;

/// <summary>Configuration section "Batch": limits of POST /predictions/batch. Each file is also limited by Upload:MaxBytes.</summary>
public sealed class BatchOptions
{
    public const string Section = "Batch";

    /// <summary>Most files in one request; more is refused with 413 before any is processed.</summary>
    [Range(1, 10_000, ErrorMessage = "Batch:MaxFiles must be between 1 and 10000 (default 64).")]
    public int MaxFiles { get; set; } = 64;

    /// <summary>Largest request body, all files together (default 64 MiB).</summary>
    [Range(1, 1L << 32, ErrorMessage = "Batch:MaxTotalBytes must be between 1 and 4294967296 bytes (default 67108864, i.e. 64 MiB).")]
    public long MaxTotalBytes { get; set; } = 64 * 1024 * 1024;

    /// <summary>How long a stored answer is replayed for its Idempotency-Key; after that the key may be reused.</summary>
    [Range(1, 24 * 365, ErrorMessage = "Batch:IdempotencyKeyHours must be between 1 and 8760 (default 24).")]
    public int IdempotencyKeyHours { get; set; } = 24;

    /// <summary>Seconds between sweeps of expired idempotency answers, run by one instance at a time (default 3600).</summary>
    [Range(1, 24 * 3600, ErrorMessage = "Batch:IdempotencySweepSeconds must be between 1 and 86400 (default 3600).")]
    public int IdempotencySweepSeconds { get; set; } = 3600;
}
