using System.ComponentModel.DataAnnotations;

namespace PredictionApi.Predictions;

/// <summary>Configuration section "Retention": how DELETE /predictions?before= works through old rows.</summary>
public sealed class RetentionOptions
{
    public const string Section = "Retention";

    /// <summary>Predictions deleted per transaction; each chunk holds its row locks only briefly.</summary>
    [Range(1, 100_000, ErrorMessage = "Retention:ChunkSize must be between 1 and 100000 (default 1000).")]
    public int ChunkSize { get; set; } = 1000;
}
