using System.Data;
using System.Text.Json;
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
               i.storage_kind AS StorageKind, i.object_key AS ObjectKey, i.byte_size AS ByteSize,
               p.created_by AS CreatedBy, p.shadow AS Shadow
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
    /// The predictions of <paramref name="filter"/>'s model and time range, grouped by predicted class, confidence bin
    /// (tenths) and true label, for the caller to fold. Whole days and hours inside the range come from
    /// prediction_counts, which triggers keep exact (db/schema.sql); only the partial hours at its edges are read
    /// from the predictions themselves, so the cost follows the number of buckets, not of predictions.
    /// </summary>
    public async Task<IReadOnlyList<StatsGroup>> StatsGroupsAsync(PredictionFilter filter, CancellationToken cancellationToken)
    {
        var parts = new List<string>();
        var parameters = new DynamicParameters();
        parameters.Add("Model", filter.Model, DbType.String);
        // Only fixed SQL fragments are joined; the bounds travel as parameters.
        foreach (var (piece, (source, from, to)) in StatsPieces(filter.From, filter.To).Index())
        {
            var conditions = new List<string>();
            var column = source == StatsSource.Rows ? "created_at" : "bucket_start";
            if (from is not null)
            {
                conditions.Add($"{column} >= @From{piece}");
                parameters.Add($"From{piece}", from, DbType.DateTimeOffset);
            }

            if (to is not null)
            {
                conditions.Add($"{column} < @To{piece}");
                parameters.Add($"To{piece}", to, DbType.DateTimeOffset);
            }

            var range = string.Concat(conditions.Select(c => " AND " + c));
            // The bin expression is the one prediction_counts is maintained with.
            parts.Add(source == StatsSource.Rows
                ? $"""
                  SELECT likely_class, least(floor(confidence * 10::real), 9)::int AS bin, true_label, count(*) AS count, sum(confidence::float8) AS confidence_sum
                  FROM predictions WHERE model_name = @Model AND NOT shadow{range} GROUP BY 1, 2, 3
                  """
                : $"""
                  SELECT likely_class, bin, true_label, count, confidence_sum
                  FROM prediction_counts WHERE model_name = @Model AND span = '{(source == StatsSource.Days ? "day" : "hour")}'{range}
                  """);
        }

        var sql = $"""
            SELECT likely_class AS LikelyClass, bin AS Bin, true_label AS TrueLabel, sum(count)::bigint AS Count, sum(confidence_sum) AS ConfidenceSum
            FROM (
            {string.Join("\nUNION ALL\n", parts)}
            ) AS g
            GROUP BY 1, 2, 3
            HAVING sum(count) > 0
            """;
        // Two partial hours of rows and a few thousand groups at most: starting parallel workers costs more than the query.
        const string serialSql = """SET LOCAL max_parallel_workers_per_gather = 0""";
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(serialSql, transaction: transaction, cancellationToken: cancellationToken));
        var groups = (await connection.QueryAsync<StatsGroup>(new CommandDefinition(sql, parameters, transaction, cancellationToken: cancellationToken))).AsList();
        await transaction.CommitAsync(cancellationToken);
        return groups;
    }

    /// <summary>
    /// Splits [<paramref name="from"/>, <paramref name="to"/>) (null: unbounded) into whole UTC days, whole hours
    /// around them, and the partial hours at the ends, which only the predictions themselves can answer.
    /// </summary>
    internal static List<(StatsSource Source, DateTime? From, DateTime? To)> StatsPieces(DateTime? from, DateTime? to)
    {
        // Rounding up would pass DateTime.MaxValue; no whole day starts that late anyway.
        if (from > DateTime.MaxValue.AddDays(-2))
        {
            return [(StatsSource.Rows, from, to)];
        }

        var hourFrom = from is { } f ? Ceiling(f, TimeSpan.TicksPerHour) : (DateTime?)null;
        var hourTo = to is { } t ? Floor(t, TimeSpan.TicksPerHour) : (DateTime?)null;
        if (hourFrom >= hourTo)
        {
            return [(StatsSource.Rows, from, to)];
        }

        var pieces = new List<(StatsSource, DateTime?, DateTime?)>();
        if (from < hourFrom)
        {
            pieces.Add((StatsSource.Rows, from, hourFrom));
        }

        if (hourTo < to)
        {
            pieces.Add((StatsSource.Rows, hourTo, to));
        }

        var dayFrom = hourFrom is { } hf ? Ceiling(hf, TimeSpan.TicksPerDay) : (DateTime?)null;
        var dayTo = hourTo is { } ht ? Floor(ht, TimeSpan.TicksPerDay) : (DateTime?)null;
        if (dayFrom >= dayTo)
        {
            pieces.Add((StatsSource.Hours, hourFrom, hourTo));
            return pieces;
        }

        pieces.Add((StatsSource.Days, dayFrom, dayTo));
        if (hourFrom < dayFrom)
        {
            pieces.Add((StatsSource.Hours, hourFrom, dayFrom));
        }

        if (dayTo < hourTo)
        {
            pieces.Add((StatsSource.Hours, dayTo, hourTo));
        }

        return pieces;
    }

    private static DateTime Floor(DateTime time, long unit) => new(time.Ticks / unit * unit, DateTimeKind.Utc);

    private static DateTime Ceiling(DateTime time, long unit) => new((time.Ticks + unit - 1) / unit * unit, DateTimeKind.Utc);

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
