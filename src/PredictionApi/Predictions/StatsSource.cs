namespace PredictionApi.Predictions;

/// <summary>Where one piece of a statistics range is counted from.</summary>
public enum StatsSource
{
    /// <summary>Whole UTC days of prediction_counts.</summary>
    Days,

    /// <summary>Whole UTC hours of prediction_counts.</summary>
    Hours,

    /// <summary>The predictions themselves, for a partial hour.</summary>
    Rows,
}
