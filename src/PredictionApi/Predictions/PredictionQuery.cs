namespace PredictionApi.Predictions;

/// <summary>Filters and position of one page of GET /predictions.</summary>
public sealed record PredictionQuery(int Limit, PredictionFilter Filter, PredictionCursor? After = null);
