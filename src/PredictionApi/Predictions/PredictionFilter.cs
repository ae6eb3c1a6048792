using System.Data;
using System.Globalization;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using PredictionApi.Problems;

namespace PredictionApi.Predictions;

/// <summary>
/// Which stored predictions a query covers: the filters of GET /predictions and the scope of
/// GET /predictions/stats. Values are validated when parsed; <see cref="AddConditions"/> turns them
/// into fixed SQL fragments whose values travel as parameters.
/// </summary>
public sealed record PredictionFilter
{
    public string? Model { get; init; }

    public int? LikelyClass { get; init; }

    /// <summary>The recorded true label (feedback); rows without one never match.</summary>
    public string? Label { get; init; }

    public float? MinConfidence { get; init; }

    public float? MaxConfidence { get; init; }

    /// <summary>Inclusive lower bound of created_at (UTC).</summary>
    public DateTime? From { get; init; }

    /// <summary>Exclusive upper bound of created_at (UTC).</summary>
    public DateTime? To { get; init; }

    /// <summary>The name of the API key that stored the predictions; rows stored without a key never match.</summary>
    public string? CreatedBy { get; init; }

    /// <summary>Fingerprint of the filters, carried in cursors so a cursor only continues the query it came from.</summary>
    public uint Fingerprint => CreatedBy is null
        ? PredictionCursor.Fingerprint(Model, LikelyClass, Label, MinConfidence, MaxConfidence, From?.Ticks, To?.Ticks)
        // Appended only when set, so cursors issued before the filter existed stay valid.
        : PredictionCursor.Fingerprint(Model, LikelyClass, Label, MinConfidence, MaxConfidence, From?.Ticks, To?.Ticks, CreatedBy);

    /// <summary>
    /// Conditions on <c>predictions p</c>. Every combination leaves created_at (and id) as the next
    /// columns of some index after its equality columns, so rows come out in keyset order without a
    /// sort; confidence bounds are checked on the rows the index scan visits.
    /// </summary>
    internal void AddConditions(List<string> conditions, DynamicParameters parameters)
    {
        void Add(object? value, string condition, string name, DbType type)
        {
            if (value is not null)
            {
                conditions.Add(condition);
                parameters.Add(name, value, type);
            }
        }

        Add(Model, "p.model_name = @Model", "Model", DbType.String);
        Add(LikelyClass, "p.likely_class = @LikelyClass", "LikelyClass", DbType.Int32);
        // Implies true_label IS NOT NULL, which lets the planner use the partial label indexes.
        Add(Label, "p.true_label = @Label", "Label", DbType.String);
        // Confidence is a real column: comparing with real parameters keeps 0.7 equal to 0.7.
        Add(MinConfidence, "p.confidence >= @MinConfidence", "MinConfidence", DbType.Single);
        Add(MaxConfidence, "p.confidence <= @MaxConfidence", "MaxConfidence", DbType.Single);
        Add(From, "p.created_at >= @From", "From", DbType.DateTimeOffset);
        Add(To, "p.created_at < @To", "To", DbType.DateTimeOffset);
        // Implies created_by IS NOT NULL, so the partial index predictions_created_by_newest applies.
        Add(CreatedBy, "p.created_by = @CreatedBy", "CreatedBy", DbType.String);
    }

    /// <summary>
    /// Parses the query-string filters (any may be null, meaning "no filter"), or returns a 400 that
    /// names the parameter and says what a valid value looks like.
    /// </summary>
    internal static ProblemHttpResult? TryParse(string? model, string? likelyClass, string? label, string? minConfidence, string? maxConfidence,
        string? from, string? to, out PredictionFilter filter)
    {
        filter = new PredictionFilter();
        if (model is not null)
        {
            if (!QueryValues.IsModelName(model))
            {
                return ApiProblems.BadRequest(
                    $"model must be a model name such as 'mnist' (1 to {QueryValues.MaxNameLength} letters, digits or . _ - : @ /); leave it out to cover every model.");
            }

            filter = filter with { Model = model };
        }

        if (likelyClass is not null)
        {
            if (!int.TryParse(likelyClass, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed))
            {
                return ApiProblems.BadRequest($"likely_class must be a class index (0, 1, 2, ...), not '{likelyClass}'.");
            }

            filter = filter with { LikelyClass = parsed };
        }

        if (label is not null)
        {
            if (!QueryValues.IsText(label))
            {
                return ApiProblems.BadRequest(
                    $"label must be a true label such as '7' (1 to {QueryValues.MaxNameLength} characters, no control characters); it matches predictions whose true label was recorded with PATCH /prediction/{{id}}.");
            }

            filter = filter with { Label = label };
        }

        foreach (var (name, text) in new[] { ("min_confidence", minConfidence), ("max_confidence", maxConfidence) })
        {
            if (text is not null && QueryValues.Probability(text) is null)
            {
                return ApiProblems.BadRequest($"{name} must be a number from 0 to 1, such as 0.5, not '{text}'.");
            }
        }

        filter = filter with
        {
            MinConfidence = minConfidence is null ? null : QueryValues.Probability(minConfidence),
            MaxConfidence = maxConfidence is null ? null : QueryValues.Probability(maxConfidence),
        };
        if (filter.MinConfidence > filter.MaxConfidence)
        {
            return ApiProblems.BadRequest($"min_confidence ({minConfidence}) is greater than max_confidence ({maxConfidence}), so nothing could match.");
        }

        foreach (var (name, text) in new[] { ("from", from), ("to", to) })
        {
            if (text is not null && QueryValues.Timestamp(text) is null)
            {
                return ApiProblems.BadRequest(
                    $"{name} must be an ISO 8601 date or time such as 2026-03-01 or 2026-03-01T12:30:00Z (no offset means UTC; write '+' in an offset as %2B), not '{text}'.");
            }
        }

        filter = filter with
        {
            From = from is null ? null : QueryValues.Timestamp(from),
            To = to is null ? null : QueryValues.Timestamp(to),
        };
        if (filter.From >= filter.To)
        {
            return ApiProblems.BadRequest($"from ({from}) must be earlier than to ({to}): from is inclusive and to exclusive, so this range is empty.");
        }

        return null;
    }
}
