using System.ComponentModel.DataAnnotations;

namespace PredictionApi.Predictions;

/// <summary>Configuration section "Retention": how DELETE /predictions?before= works through old rows.</summary>
public sealed class RetentionOptions
{
    public const string Section = "Retention";

    /// <summary>Predictions deleted per transaction; each chunk holds its row locks only briefly.</summary>
    [Range(1, 100_000, ErrorMessage = "Retention:ChunkSize must be between 1 and 100000 (default 1000).")]
    public int ChunkSize { get; set; } = 1000;

    /// <summary>
    /// After each chunk a retention delete waits this share of the time the chunk took (default 100: as long again), so
    /// that it takes about half of one core and leaves the rest to the uploads; 0 deletes as fast as the database can.
    /// </summary>
    [Range(0, 10_000, ErrorMessage = "Retention:ChunkPausePercent must be between 0 and 10000 (default 100).")]
    public int ChunkPausePercent { get; set; } = 100;
}
