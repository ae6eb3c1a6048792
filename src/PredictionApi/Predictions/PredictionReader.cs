using Dapper;
using Npgsql;
using PredictionApi.Storage.InputStores;

namespace PredictionApi.Predictions;

/// <summary>
/// Reads stored predictions with their inputs from PostgreSQL, through the service's one NpgsqlDataSource;
/// every statement is parameterized. <see cref="PredictionWriter"/> writes them and <see cref="PredictionDeleter"/> deletes them.
/// </summary>
public sealed class PredictionReader(NpgsqlDataSource dataSource)
{
    // In the order of PredictionRow's constructor, which Dapper follows; Data comes after these.
    private const string SelectColumns = """
        SELECT p.id AS Id, p.input_id AS InputId, i.filename AS Filename, i.content_type AS ContentType,
               p.probabilities::text AS Probabilities, p.likely_class AS LikelyClass, p.confidence AS Confidence,
               p.model_name AS ModelName, p.model_version AS ModelVersion, p.created_at AS CreatedAt,
               p.true_label AS TrueLabel, p.note AS Note, p.labeled_at AS LabeledAt,
               i.storage_kind AS StorageKind, i.object_key AS ObjectKey, i.byte_size AS ByteSize
        """;
    /// <summary>One prediction with its input's bytes when the database keeps them, or null.</summary>
    public async Task<PredictionRow?> GetAsync(long id, CancellationToken cancellationToken)
    {
        const string sql = SelectColumns + """
            , i.data AS Data
            FROM predictions p JOIN inputs i ON i.id = p.input_id
            WHERE p.id = @id
            """;
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.QuerySingleOrDefaultAsync<PredictionRow>(new CommandDefinition(sql, new { id }, cancellationToken: cancellationToken));
    }

    /// <summary>
    /// One page without the inputs' bytes, newest first. Keyset pagination on (created_at, id) walks an index from the cursor, so
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
        return SelectColumns
            + ", NULL::text AS Data\nFROM predictions p JOIN inputs i ON i.id = p.input_id"
            + (conditions.Count > 0 ? "\nWHERE " + string.Join(" AND ", conditions) : "")
            + "\nORDER BY p.created_at DESC, p.id DESC\nLIMIT @Limit";
    }

    /// <summary>
    /// The predictions <paramref name="filter"/> selects, grouped by predicted class, confidence bin and true label:
    /// one pass over the range, and few groups (classes x bins x labels) for the caller to fold.
    /// </summary>
    public async Task<IReadOnlyList<StatsGroup>> StatsGroupsAsync(PredictionFilter filter, int bins, CancellationToken cancellationToken)
    {
        var conditions = new List<string>();
        var parameters = new DynamicParameters();
        filter.AddConditions(conditions, parameters);
        // Bins are computed in real arithmetic, as the confidence filters compare, so 0.7 falls in 0.7-0.8.
        var sql = $"""
            SELECT p.likely_class AS LikelyClass,
                   least(floor(p.confidence * {bins}::real), {bins - 1})::int AS Bin,
                   p.true_label AS TrueLabel,
                   count(*) AS Count,
                   sum(p.confidence::float8) AS ConfidenceSum
            FROM predictions p
            WHERE {string.Join(" AND ", conditions)}
            GROUP BY 1, 2, 3
            """;
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return (await connection.QueryAsync<StatsGroup>(new CommandDefinition(sql, parameters, cancellationToken: cancellationToken))).AsList();
    }

    /// <summary>The input of prediction <paramref name="predictionId"/>, or null when there is no such prediction.</summary>
    public async Task<StoredInput?> FindInputAsync(long predictionId, CancellationToken cancellationToken)
    {
        const string sql = """
            SELECT i.id AS Id, i.content_type AS ContentType, i.storage_kind AS StorageKind, i.data AS Data, i.object_key AS ObjectKey
            FROM predictions p JOIN inputs i ON i.id = p.input_id
            WHERE p.id = @predictionId
            """;
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.QuerySingleOrDefaultAsync<StoredInput>(new CommandDefinition(sql, new { predictionId }, cancellationToken: cancellationToken));
    }

    /// <summary>The base64 bytes of those of <paramref name="inputIds"/> that PostgreSQL holds, by input id.</summary>
    public async Task<Dictionary<long, string>> InputDataAsync(long[] inputIds, CancellationToken cancellationToken)
    {
        const string sql = """SELECT id AS Id, data AS Data FROM inputs WHERE id = ANY(@inputIds) AND data IS NOT NULL""";
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var rows = await connection.QueryAsync<(long Id, string Data)>(new CommandDefinition(sql, new { inputIds }, cancellationToken: cancellationToken));
        return rows.ToDictionary(r => r.Id, r => r.Data);
    }
}
