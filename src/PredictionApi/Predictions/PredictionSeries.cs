namespace PredictionApi.Predictions;

/// <summary>
/// Answer to GET /predictions/stats/series: every hour or day (UTC) from <see cref="From"/> to <see cref="To"/>,
/// empty ones included, each with its count per class in the order of <see cref="Labels"/>.
/// </summary>
public sealed record PredictionSeries(
    string Model,
    string Bucket,
    DateTime From,
    DateTime To,
    IReadOnlyList<string> Labels,
    long Total,
    IReadOnlyList<SeriesBucket> Buckets);

/// <summary>One hour or day of <see cref="PredictionSeries"/>: when it starts, and its predictions per class.</summary>
public sealed record SeriesBucket(DateTime Start, long Total, long[] Counts);
