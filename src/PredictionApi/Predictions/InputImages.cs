using System.Globalization;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using PredictionApi.Problems;
using PredictionApi.Storage.InputStores;

namespace PredictionApi.Predictions;

/// <summary>
/// Reads stored input images wherever they live. GET /prediction/{id} embeds the image as a data URL
/// in both storage modes (the bytes are read from the object store when needed), so clients see one
/// contract; GET /prediction/{id}/image serves the bytes, or redirects to a presigned URL when
/// ObjectStorage:PresignedRedirect is set.
/// </summary>
public sealed class InputImages(NpgsqlDataSource dataSource, IInputStore inputs)
{
    /// <summary>The input of prediction <paramref name="predictionId"/>, or null when there is no such prediction.</summary>
    public async Task<StoredInput?> FindByPredictionAsync(long predictionId, CancellationToken cancellationToken)
    {
        const string sql = """
            SELECT i.id AS Id, i.content_type AS ContentType, i.storage_kind AS StorageKind, i.data AS Data, i.object_key AS ObjectKey
            FROM predictions p JOIN inputs i ON i.id = p.input_id
            WHERE p.id = @predictionId
            """;
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.QuerySingleOrDefaultAsync<StoredInput>(new CommandDefinition(sql, new { predictionId }, cancellationToken: cancellationToken));
    }

    /// <summary>The image of input <paramref name="inputId"/> as a data: URL, read from wherever it is stored.</summary>
    public async Task<string> DataUrlAsync(long inputId, CancellationToken cancellationToken)
    {
        const string sql = """
            SELECT id AS Id, content_type AS ContentType, storage_kind AS StorageKind, data AS Data, object_key AS ObjectKey
            FROM inputs WHERE id = @inputId
            """;
        StoredInput input;
        await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken))
        {
            input = await connection.QuerySingleAsync<StoredInput>(new CommandDefinition(sql, new { inputId }, cancellationToken: cancellationToken));
        }

        if (input.Data is { } data)
        {
            return $"data:{input.ContentType};base64,{data}";
        }

        await using var stream = await inputs.OpenAsync(input, cancellationToken);
        using var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer, cancellationToken);
        return $"data:{input.ContentType};base64,{Convert.ToBase64String(buffer.GetBuffer().AsSpan(0, (int)buffer.Length))}";
    }

    /// <summary>GET /prediction/{id}/image: the stored bytes with their content type, or 302 to a presigned URL.</summary>
    public static async Task<Results<FileStreamHttpResult, RedirectHttpResult, ProblemHttpResult>> GetImage(
        string id, InputImages images, IInputStore inputs, HttpContext context, CancellationToken cancellationToken)
    {
        if (!PredictionIds.TryParse(id, out var predictionId, out var invalid))
        {
            return invalid;
        }

        var input = await images.FindByPredictionAsync(predictionId, cancellationToken);
        if (input is null)
        {
            return PredictionIds.NotFound(id);
        }

        try
        {
            if (await inputs.RedirectUriAsync(input, cancellationToken) is { } url)
            {
                // The URL expires; the redirect itself must not be cached past it.
                context.Response.Headers.CacheControl = "private, no-store";
                return TypedResults.Redirect(url.AbsoluteUri);
            }

            var stream = await inputs.OpenAsync(input, cancellationToken);
            // A stored input never changes, so clients may keep it.
            context.Response.Headers.CacheControl = "private, max-age=86400";
            return TypedResults.Stream(stream, input.ContentType);
        }
        catch (InputStorageException e)
        {
            return ApiProblems.Problem(e.Status, e.Title, e.Message);
        }
    }
}

/// <summary>Prediction ids in routes: positive whole numbers; anything else is a 400, an unknown id a 404.</summary>
internal static class PredictionIds
{
    public static bool TryParse(string text, out long id, out ProblemHttpResult problem)
    {
        if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out id) && id > 0)
        {
            problem = null!;
            return true;
        }

        problem = ApiProblems.BadRequest($"'{text}' is not a prediction id; ids are positive whole numbers such as 42.", "Invalid id");
        return false;
    }

    public static ProblemHttpResult NotFound(string id) => ApiProblems.NotFound($"There is no prediction {id}.");
}
