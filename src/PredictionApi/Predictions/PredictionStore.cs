using System.Text.Json;
using Dapper;
using Npgsql;
using PredictionApi.Storage.InputStores;

namespace PredictionApi.Predictions;

/// <summary>
/// A prediction joined with its input. Where the input's bytes are (<see cref="Data"/> or
/// <see cref="ObjectKey"/>) is only read when the image is asked for.
/// </summary>
public sealed record PredictionRow(long Id, long InputId, string Filename, string ContentType, string Probabilities, int LikelyClass,
    float Confidence, string ModelName, string ModelVersion, DateTime CreatedAt, string? TrueLabel, string? Note, DateTime? LabeledAt,
    string? Data, string StorageKind, string? ObjectKey)
{
    /// <summary>The input, for reading its bytes from wherever they are kept.</summary>
    public StoredInput Input => new(InputId, ContentType, StorageKind, Data, ObjectKey);

    /// <summary>The prediction as the API returns it; <paramref name="withImage"/> embeds bytes kept in the database.</summary>
    public StoredPrediction ToContract(bool withImage) => new(Id, InputId, Filename, ContentType,
        JsonSerializer.Deserialize<float[]>(Probabilities) ?? [], LikelyClass, Confidence, new ModelRef(ModelName, ModelVersion), CreatedAt,
        TrueLabel, Note, withImage && Data is not null ? InputImages.DataUrl(ContentType, Data) : null) { LabeledAt = LabeledAt };
}

/// <summary>Filters and position of one page of GET /predictions; <see cref="WithImage"/> also reads the input's bytes.</summary>
public sealed record PredictionQuery(int Limit, PredictionFilter Filter, PredictionCursor? After = null, bool WithImage = false);

/// <summary>
/// Reads stored predictions with their inputs from PostgreSQL, through the service's one NpgsqlDataSource;
/// every statement is parameterized. <see cref="PredictionRecorder"/> writes them.
/// </summary>
public sealed class PredictionStore(NpgsqlDataSource dataSource)
{
    private const string SelectColumns = """
        SELECT p.id AS Id, p.input_id AS InputId, i.filename AS Filename, i.content_type AS ContentType,
               p.probabilities::text AS Probabilities, p.likely_class AS LikelyClass, p.confidence AS Confidence,
               p.model_name AS ModelName, p.model_version AS ModelVersion, p.created_at AS CreatedAt,
               p.true_label AS TrueLabel, p.note AS Note, p.labeled_at AS LabeledAt
        """;

    /// <summary>One prediction with where its input's bytes are, or null.</summary>
    public async Task<PredictionRow?> GetAsync(long id, CancellationToken cancellationToken)
    {
        const string sql = SelectColumns + """
            , i.data AS Data, i.storage_kind AS StorageKind, i.object_key AS ObjectKey
            FROM predictions p JOIN inputs i ON i.id = p.input_id
            WHERE p.id = @id
            """;
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.QuerySingleOrDefaultAsync<PredictionRow>(new CommandDefinition(sql, new { id }, cancellationToken: cancellationToken));
    }

    /// <summary>
    /// One page, newest first. Keyset pagination on (created_at, id) walks an index from the cursor, so
    /// page 1,000 costs what page 1 does; filters pick a matching composite index.
    /// </summary>
    public async Task<IReadOnlyList<PredictionRow>> ListAsync(PredictionQuery query, CancellationToken cancellationToken)
    {
        var sql = ListSql(query, out var parameters);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var rows = await connection.QueryAsync<PredictionRow>(new CommandDefinition(sql, parameters, cancellationToken: cancellationToken));
        return rows.AsList();
    }

    /// <summary>The list query for <paramref name="query"/> (also used by tests to check its plan).</summary>
    internal static string ListSql(PredictionQuery query, out DynamicParameters parameters)
    {
        var conditions = new List<string>();
        parameters = new DynamicParameters();
        // Only fixed SQL fragments are joined; every value travels as a parameter.
        query.Filter.AddConditions(conditions, parameters);
        if (query.After is { } after)
        {
            conditions.Add("(p.created_at, p.id) < (@AfterCreatedAt, @AfterId)");
            parameters.Add("AfterCreatedAt", after.CreatedAt);
            parameters.Add("AfterId", after.Id);
        }

        parameters.Add("Limit", query.Limit);
        // Columns in the order of PredictionRow's constructor, which Dapper follows.
        var payload = query.WithImage
            ? ", i.data AS Data, i.storage_kind AS StorageKind, i.object_key AS ObjectKey"
            : ", NULL::text AS Data, i.storage_kind AS StorageKind, NULL::text AS ObjectKey";
        return SelectColumns + payload
            + "\nFROM predictions p JOIN inputs i ON i.id = p.input_id"
            + (conditions.Count > 0 ? "\nWHERE " + string.Join(" AND ", conditions) : "")
            + "\nORDER BY p.created_at DESC, p.id DESC\nLIMIT @Limit";
    }
}
