using System.ComponentModel.DataAnnotations;

namespace PredictionApi.Predictions;

/// <summary>
/// How concurrent uploads share transactions. A writer takes whatever is waiting, up to these bounds, and
/// commits it as one statement; it never waits for more to arrive, so an idle service commits each upload at once.
/// </summary>
public sealed class GroupCommitOptions
{
    public const string Section = "GroupCommit";

    /// <summary>Most input + prediction pairs committed together (default 256).</summary>
    [Range(1, 10_000, ErrorMessage = "GroupCommit:MaxPairs must be between 1 and 10000 (default 256).")]
    public int MaxPairs { get; set; } = 256;

    /// <summary>Most bytes (base64 images and probabilities) committed together (default 16 MiB).</summary>
    [Range(1024, 1L << 30, ErrorMessage = "GroupCommit:MaxBytes must be between 1024 and 1073741824 (default 16777216).")]
    public long MaxBytes { get; set; } = 16L << 20;

    /// <summary>
    /// Writers working at once, each on its own connection (default 2): while one waits for its commit to
    /// be flushed, the next group is already being written.
    /// </summary>
    [Range(1, 64, ErrorMessage = "GroupCommit:Writers must be between 1 and 64 (default 2).")]
    public int Writers { get; set; } = 2;
}
