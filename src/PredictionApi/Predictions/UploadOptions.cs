using System.ComponentModel.DataAnnotations;

namespace PredictionApi.Predictions;

/// <summary>Configuration section "Upload".</summary>
public sealed class UploadOptions
{
    public const string Section = "Upload";

    /// <summary>Largest accepted file, in bytes (default 10 MiB); bigger uploads get 413.</summary>
    [Range(1, 1L << 30, ErrorMessage = "Upload:MaxBytes must be between 1 and 1073741824 bytes (default 10485760, i.e. 10 MiB).")]
    public long MaxBytes { get; set; } = 10 * 1024 * 1024;
}
