using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Npgsql;
using PredictionApi.Auth;
using PredictionApi.Inference;
using PredictionApi.Predictions;
using PredictionApi.Problems;

namespace PredictionApi.Comparison;

/// <summary>
/// GET /models/compare: two models (or versions) on the same inputs: how often they agree, per class and as a
/// matrix, how accurate each is where a true label is known, and the inputs where they disagree, newest first.
/// </summary>
public static class ComparisonApi
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 500;

    private const string SideHelp = "a model name such as 'mnist' (every version) or name:version such as 'mnist:2'";

    /// <summary>The query string of GET /models/compare.</summary>
    public readonly record struct CompareRequest(
        [FromQuery(Name = "baseline")] string? Baseline,
        [FromQuery(Name = "candidate")] string? Candidate,
        [FromQuery(Name = "from")] string? From,
        [FromQuery(Name = "to")] string? To,
        [FromQuery(Name = "limit")] string? Limit,
        [FromQuery(Name = "cursor")] string? Cursor);

    public static IEndpointRouteBuilder MapComparison(this IEndpointRouteBuilder routes)
    {
        // A literal segment outranks /models/{name}, so this route wins over a model named "compare".
        routes.MapGet("/models/compare", Compare)
            .WithTags("Models")
            .RequireScope(ApiScope.Read)
            .WithSummary("Compare two models or versions on the inputs both classified.")
            .WithDescription("baseline and candidate are a model name (every version) or name:version. from/to bound the inputs' time " +
                "(ISO 8601, from inclusive, to exclusive). Agreement is the same class index. The disagreements are paged newest input " +
                $"first: limit (1 to {MaxLimit}, default {DefaultLimit}) and next_cursor. An input a version classified more than once " +
                "counts with that version's newest prediction.")
            .ProducesProblem(StatusCodes.Status400BadRequest);
        return routes;
    }

    public static async Task<Results<Ok<ModelComparison>, ProblemHttpResult>> Compare(
        [AsParameters] CompareRequest request, ModelRegistry models, NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        if (TryParse(request, out var scope, out var limit, out var after) is { } problem)
        {
            return problem;
        }

        var reader = new ComparisonReader(dataSource);
        var groups = await reader.GroupsAsync(scope, cancellationToken);
        // One row more than asked tells whether another page exists without a COUNT.
        var rows = await reader.DisagreementsAsync(scope, limit + 1, after, cancellationToken);
        var page = rows.Take(limit).ToList();
        var next = rows.Count > limit ? new DisagreementCursor(page[^1].CreatedAt, page[^1].InputId, page[^1].AId, page[^1].BId, scope.Fingerprint).Encode() : null;
        return TypedResults.Ok(Summarize(scope, side => (side.Version is { } v ? models.Labels(side.Model, v) : null) ?? models.SpecOf(side.Model)?.Labels ?? [], groups, page, next));
    }

    internal static ProblemHttpResult? TryParse(CompareRequest request, out ComparisonScope scope, out int limit, out DisagreementCursor? after)
    {
        scope = null!;
        limit = DefaultLimit;
        after = null;
        var sides = new ComparedModel?[2];
        foreach (var (index, name, text) in new[] { (0, "baseline", request.Baseline), (1, "candidate", request.Candidate) })
        {
            if (string.IsNullOrEmpty(text))
            {
                return ApiProblems.BadRequest($"{name} is required: {SideHelp}.");
            }

            sides[index] = ComparedModel.Parse(text);
            if (sides[index] is null)
            {
                return ApiProblems.BadRequest($"{name} must be {SideHelp} (1 to {QueryValues.MaxNameLength} characters each), not '{text}'.");
            }
        }

        var (baseline, candidate) = (sides[0]!, sides[1]!);
        if (baseline.Overlaps(candidate))
        {
            return ApiProblems.BadRequest(
                $"baseline '{baseline}' and candidate '{candidate}' cover the same predictions; compare two models, or two versions such as mnist:1 and mnist:2.");
        }

        if (PredictionFilter.TryParse(null, null, null, null, null, request.From, request.To, out var range) is { } badRange)
        {
            return badRange;
        }

        if (request.Limit is not null && (!int.TryParse(request.Limit, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > MaxLimit))
        {
            return ApiProblems.BadRequest($"limit must be a whole number from 1 to {MaxLimit} (default {DefaultLimit}), not '{request.Limit}'.");
        }

        scope = new ComparisonScope(baseline, candidate, range.From, range.To);
        if (request.Cursor is not null)
        {
            if (!DisagreementCursor.TryDecode(request.Cursor, out var cursor))
            {
                return ApiProblems.BadRequest("cursor is not a cursor this service issued; pass next_cursor from the previous page unchanged, or leave it out for the first page.", "Invalid cursor");
            }

            if (cursor.Scope != scope.Fingerprint)
            {
                return ApiProblems.BadRequest("cursor was issued for another comparison; repeat the baseline, candidate, from and to of the request that returned it, or start again without a cursor.", "Invalid cursor");
            }

            after = cursor;
        }

        return null;
    }

    /// <param name="labelsOf">The labels of a side's model version (its serving version for a bare name); classes beyond them are named by index, as the statistics name them.</param>
    internal static ModelComparison Summarize(ComparisonScope scope, Func<ComparedModel, string[]> labelsOf, IReadOnlyList<PairGroup> groups, IReadOnlyList<DisagreementRow> page, string? next)
    {
        Func<int, string> Namer(ComparedModel side)
        {
            var known = labelsOf(side);
            return c => c < known.Length ? known[c] : c.ToString(CultureInfo.InvariantCulture);
        }

        int ClassCount(ComparedModel side, Func<PairGroup, int> classOf) =>
            Math.Max(labelsOf(side).Length, groups.Count == 0 ? 0 : groups.Max(classOf) + 1);

        var (baselineName, candidateName) = (Namer(scope.Baseline), Namer(scope.Candidate));
        var (baselineClasses, candidateClasses) = (ClassCount(scope.Baseline, g => g.BaselineClass), ClassCount(scope.Candidate, g => g.CandidateClass));
        var matrix = Enumerable.Range(0, baselineClasses).Select(_ => new long[candidateClasses]).ToArray();
        long labeled = 0, baselineCorrect = 0, candidateCorrect = 0;
        foreach (var g in groups)
        {
            matrix[g.BaselineClass][g.CandidateClass] += g.Count;
            if (g.TrueLabel is not null)
            {
                labeled += g.Count;
                baselineCorrect += g.TrueLabel == baselineName(g.BaselineClass) ? g.Count : 0;
                candidateCorrect += g.TrueLabel == candidateName(g.CandidateClass) ? g.Count : 0;
            }
        }

        static double? Rate(long part, long whole) => whole == 0 ? null : (double)part / whole;
        long Agreed(int c) => c < candidateClasses ? matrix[c][c] : 0;
        var classes = Enumerable.Range(0, baselineClasses)
            .Select(c => new ClassAgreement(c, baselineName(c), matrix[c].Sum(), Agreed(c), Rate(Agreed(c), matrix[c].Sum())))
            .ToList();
        var total = classes.Sum(c => c.Inputs);
        var agreed = classes.Sum(c => c.Agreed);

        var disagreements = page.Select(r =>
        {
            var a = new ComparedPrediction(r.AId, r.AVersion, r.AClass, "", r.AConfidence);
            var b = new ComparedPrediction(r.BId, r.BVersion, r.BClass, "", r.BConfidence);
            var (baseline, candidate) = scope.Swapped ? (b, a) : (a, b);
            baseline = baseline with { Label = baselineName(baseline.LikelyClass) };
            candidate = candidate with { Label = candidateName(candidate.LikelyClass) };
            return new Disagreement(r.InputId, r.CreatedAt, r.TrueLabel, baseline, candidate, $"/prediction/{baseline.PredictionId}/image");
        }).ToList();

        return new ModelComparison(scope.Baseline, scope.Candidate, scope.From, scope.To, total, agreed, Rate(agreed, total), classes,
            new AgreementMatrix(Enumerable.Range(0, baselineClasses).Select(baselineName).ToList(), Enumerable.Range(0, candidateClasses).Select(candidateName).ToList(), matrix),
            new ComparisonAccuracy(labeled, baselineCorrect, Rate(baselineCorrect, labeled), candidateCorrect, Rate(candidateCorrect, labeled)),
            disagreements, next);
    }
}
