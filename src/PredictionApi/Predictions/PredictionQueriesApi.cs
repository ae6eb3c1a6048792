using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using PredictionApi.Inference;
using PredictionApi.Problems;
using PredictionApi.Storage.InputStores;
using JsonOptions = Microsoft.AspNetCore.Http.Json.JsonOptions;

namespace PredictionApi.Predictions;

/// <summary>
/// Reading what is stored: GET /predictions (newest first, filtered, with a keyset cursor), GET /prediction/{id}
/// with its image as a data URL, and GET /prediction/{id}/image with the bytes as uploaded.
/// </summary>
public static class PredictionQueriesApi
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 500;

    /// <summary>
    /// Data URLs one page may hold: a page with images ends before it would pass this (it always holds
    /// one row), and next_cursor continues, so a page of large images cannot exhaust the server's memory.
    /// </summary>
    public const long MaxImageCharsPerPage = 8L << 20;


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
        [FromQuery(Name = "max_labels")] string? MaxLabels,
        [FromQuery(Name = "created_by")] string? CreatedBy);

    /// <summary>A page of GET /predictions?fields=...: each item holds only the fields asked for.</summary>
    public sealed record SelectedPredictionPage(IReadOnlyList<JsonObject> Items, string? NextCursor);

    public static async Task<Results<Ok<PredictionPage>, JsonHttpResult<SelectedPredictionPage>, ProblemHttpResult>> ListPredictions(
        [AsParameters] ListRequest request, PredictionReader store, InputImages images, ModelRegistry models, IOptions<JsonOptions> json,
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

        if (request.CreatedBy is not null)
        {
            if (!QueryValues.IsText(request.CreatedBy))
            {
                return ApiProblems.BadRequest($"created_by must be the name of an API key (1 to {QueryValues.MaxNameLength} characters, no control characters), as `keys list` shows it.");
            }

            filter = filter with { CreatedBy = request.CreatedBy };
        }

        if (PredictionFields.TryParse(request.Fields, out var fields) is { } badFields)
        {
            return badFields;
        }

        // min_confidence means one thing everywhere: only labels at least this probable. Here it also
        // drops the rows whose best label is below it.
        if (new LabelQuery(request.MaxLabels, request.MinConfidence).TryResolve(models.ClassCount(filter.Model), out var labels) is { } badLabels)
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
                    "max_confidence, from, to, created_by), or start again without a cursor.", "Invalid cursor");
            }

            query = query with { After = after };
        }

        // One row more than asked tells whether another page exists without a COUNT.
        var rows = await store.ListAsync(query with { Limit = pageSize + 1 }, cancellationToken);
        var withImages = fields?.IncludesImage ?? false;
        var page = rows.Take(withImages ? RowsWithRoomForImages(rows, pageSize) : pageSize).ToList();
        var items = page.Select(r => r.ToContract(withImage: false).WithLabels(models, labels)).ToList();
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
    public static async Task<Results<Ok<StoredPrediction>, ProblemHttpResult>> GetPrediction(
        string id, [AsParameters] LabelQuery labelQuery, PredictionReader store, InputImages images, ModelRegistry models, CancellationToken cancellationToken)
    {
        if (!PredictionIds.TryParse(id, out var predictionId, out var invalid))
        {
            return invalid;
        }

        var row = await store.GetAsync(predictionId, cancellationToken);
        if (row is null)
        {
            return PredictionIds.NotFound(id);
        }

        if (labelQuery.TryResolve(row.Classes, out var labels) is { } badLabels)
        {
            return badLabels;
        }

        return TypedResults.Ok(await images.WithImageAsync(row, models, labels, cancellationToken));
    }

    public static async Task<Results<FileStreamHttpResult, RedirectHttpResult, ProblemHttpResult>> GetImage(
        string id, PredictionReader reader, IInputStore inputs, HttpContext context, CancellationToken cancellationToken)
    {
        if (!PredictionIds.TryParse(id, out var predictionId, out var invalid))
        {
            return invalid;
        }

        var input = await reader.FindInputAsync(predictionId, cancellationToken);
        if (input is null)
        {
            return PredictionIds.NotFound(id);
        }

        // An input whose bytes cannot be reached is an InputStorageException, answered as its problem.
        if (await inputs.RedirectUriAsync(input, cancellationToken) is { } url)
        {
            // The URL expires; the redirect itself must not be cached past it.
            context.Response.Headers.CacheControl = "private, no-store";
            return TypedResults.Redirect(url.AbsoluteUri);
        }

        var stream = await inputs.OpenAsync(input, cancellationToken);
        // A stored input never changes, so clients may keep it, but only for the key that read it: a browser
        // that drops its key (or switches to another) asks again instead of showing what it kept.
        context.Response.Headers.CacheControl = "private, max-age=86400";
        context.Response.Headers.Vary = "Authorization, X-API-Key";
        return TypedResults.Stream(stream, input.ContentType);
    }
}
