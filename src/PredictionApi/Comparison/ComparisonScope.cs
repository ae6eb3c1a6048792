namespace PredictionApi.Comparison;

/// <summary>What GET /models/compare compares: two non-overlapping sides, over inputs stored in [From, To).</summary>
public sealed record ComparisonScope(ComparedModel Baseline, ComparedModel Candidate, DateTime? From, DateTime? To)
{
    /// <summary>True when the baseline is stored as prediction_pairs' b side.</summary>
    public bool Swapped => Baseline.SortsAfter(Candidate);

    /// <summary>The side stored as a_* in prediction_pairs.</summary>
    public ComparedModel StoredA => Swapped ? Candidate : Baseline;

    /// <summary>The side stored as b_* in prediction_pairs.</summary>
    public ComparedModel StoredB => Swapped ? Baseline : Candidate;

    /// <summary>Carried in cursors, so a cursor only continues the comparison it came from.</summary>
    public uint Fingerprint => Predictions.PredictionCursor.Fingerprint(
        Baseline.Model, Baseline.Version, Candidate.Model, Candidate.Version, From?.Ticks, To?.Ticks);
}
