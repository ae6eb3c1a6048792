using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using JsonOptions = Microsoft.AspNetCore.Http.Json.JsonOptions;
using PredictionApi.Inference;
using PredictionApi.Problems;

namespace PredictionApi.Predictions;

/// <summary>GET /predictions: stored predictions, newest first, filtered, with a keyset cursor.</summary>
public static class PredictionQueriesApi
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 500;

    /// <summary>
    /// Data URLs one page may hold: a page with images ends before it would pass this (it always holds
    /// one row), and next_cursor continues, so a page of large images cannot exhaust the server's memory.
    /// </summary>
    public const long MaxImageCharsPerPage = 8L << 20;

    public static IEndpointRouteBuilder MapPredictionQueries(this IEndpointRouteBuilder routes)
    {
        routes.MapGroup("/predictions").WithTags("Predictions")
            .MapGet("/", ListPredictions)
            .WithSummary("Stored predictions, newest first, without images; follow next_cursor for more.")
            .WithDescription(
                "Filters (all optional, combinable): likely_class, label (recorded true label), min_confidence and max_confidence (0..1, " +
                "inclusive), from (inclusive) and to (exclusive) as ISO 8601 times, model. min_confidence also drops labels below it. " +
                "fields=a,b,... returns only those fields of each item ('*' = all but image, e.g. fields=*,image); prediction_id is always present; " +
                "an image whose object is gone from object storage is null. A page with images stops at about 8 MiB of images (at least one item) " +
                "and may hold fewer than limit items; next_cursor continues. " +
                "A cursor only continues the filters it was issued with.")
            .ProducesProblem(StatusCodes.Status400BadRequest);
        return routes;
    }

    /// <summary>The query string of GET /predictions.</summary>
    public readonly record struct ListRequest(
        [FromQuery(Name = "limit")] string? Limit,
        [FromQuery(Name = "cursor")] string? Cursor,
        [FromQuery(Name = "likely_class")] string? LikelyClass,
        [FromQuery(Name = "label")] string? Label,
        [FromQuery(Name = "min_confidence")] string? MinConfidence,
        [FromQuery(Name = "max_confidence")] string? MaxConfidence,
        [FromQuery(Name = "from")] string? From,
        [FromQuery(Name = "to")] string? To,
        [FromQuery(Name = "model")] string? Model,
        [FromQuery(Name = "fields")] string? Fields,
        [FromQuery(Name = "max_labels")] string? MaxLabels);

    /// <summary>A page of GET /predictions?fields=...: each item holds only the fields asked for.</summary>
    public sealed record SelectedPredictionPage(IReadOnlyList<JsonObject> Items, string? NextCursor);

    public static async Task<Results<Ok<PredictionPage>, JsonHttpResult<SelectedPredictionPage>, ProblemHttpResult>> ListPredictions(
        [AsParameters] ListRequest request, PredictionStore store, InputImages images, ImageClassifier classifier, IOptions<JsonOptions> json,
        CancellationToken cancellationToken)
    {
        var pageSize = DefaultLimit;
        if (request.Limit is not null && (!int.TryParse(request.Limit, NumberStyles.None, CultureInfo.InvariantCulture, out pageSize) || pageSize is < 1 or > MaxLimit))
        {
            return ApiProblems.BadRequest($"limit must be a whole number from 1 to {MaxLimit} (default {DefaultLimit}), not '{request.Limit}'.");
        }

        if (PredictionFilter.TryParse(request.Model, request.LikelyClass, request.Label, request.MinConfidence, request.MaxConfidence, request.From, request.To,
                out var filter) is { } badFilter)
        {
            return badFilter;
        }

        if (PredictionFields.TryParse(request.Fields, out var fields) is { } badFields)
        {
            return badFields;
        }

        // min_confidence means one thing everywhere: only labels at least this probable. Here it also
        // drops the rows whose best label is below it.
        var spec = classifier.Spec;
        if (new LabelQuery(request.MaxLabels, request.MinConfidence).TryResolve(spec.Output.Classes, out var labels) is { } badLabels)
        {
            return badLabels;
        }

        var query = new PredictionQuery(pageSize, filter);
        if (request.Cursor is not null)
        {
            if (!PredictionCursor.TryDecode(request.Cursor, out var after))
            {
                return ApiProblems.BadRequest("cursor is not a cursor this service issued; pass next_cursor from the previous page unchanged, or leave it out for the first page.", "Invalid cursor");
            }

            if (after.Filters != filter.Fingerprint)
            {
                return ApiProblems.BadRequest(
                    "cursor was issued for other filters; repeat the filters of the request that returned it (model, likely_class, label, min_confidence, " +
                    "max_confidence, from, to), or start again without a cursor.", "Invalid cursor");
            }

            query = query with { After = after };
        }

        // One row more than asked tells whether another page exists without a COUNT.
        var rows = await store.ListAsync(query with { Limit = pageSize + 1 }, cancellationToken);
        var withImages = fields?.IncludesImage ?? false;
        var page = rows.Take(withImages ? RowsWithRoomForImages(rows, pageSize) : pageSize).ToList();
        var items = page.Select(r => r.ToContract(withImage: false).WithLabels(spec, labels)).ToList();
        if (withImages)
        {
            var urls = await images.DataUrlsAsync(page.Select(r => r.Input).ToList(), cancellationToken);
            items = items.Select((item, i) => item with { Image = urls[i] }).ToList();
        }

        var next = rows.Count > page.Count ? new PredictionCursor(page[^1].CreatedAt, page[^1].Id, filter.Fingerprint).Encode() : null;
        if (fields is null)
        {
            return TypedResults.Ok(new PredictionPage(items, next));
        }

        var options = json.Value.SerializerOptions;
        return TypedResults.Json(new SelectedPredictionPage(items.Select(i => fields.Project(i, options)).ToList(), next), options);
    }

    /// <summary>How many of the first <paramref name="pageSize"/> rows fit in <see cref="MaxImageCharsPerPage"/> (at least one).</summary>
    internal static int RowsWithRoomForImages(IReadOnlyList<PredictionRow> rows, int pageSize)
    {
        long total = 0;
        var count = Math.Min(pageSize, rows.Count);
        for (var i = 0; i < count; i++)
        {
            total += InputImages.DataUrlLength(rows[i].ContentType, rows[i].ByteSize);
            if (total > MaxImageCharsPerPage && i > 0)
            {
                return i;
            }
        }

        return count;
    }
}
