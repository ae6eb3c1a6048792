using System.Data;
using Dapper;
using Npgsql;
using PredictionApi.Predictions;

namespace PredictionApi.Comparison;

/// <summary>
/// Reads comparisons from prediction_pairs and prediction_pair_counts (db/schema.sql), which triggers keep exact.
/// Whole days and hours of a range come from the counts, the partial hours at its ends from the pairs, so the cost
/// follows the number of buckets, not of inputs. SQL names the stored sides a and b; the baseline is whichever
/// <see cref="ComparisonScope.Swapped"/> says.
/// </summary>
public sealed class ComparisonReader(NpgsqlDataSource dataSource)
{
    /// <summary>The compared inputs of <paramref name="scope"/>, grouped by both classes and true label.</summary>
    public async Task<IReadOnlyList<PairGroup>> GroupsAsync(ComparisonScope scope, CancellationToken cancellationToken)
    {
        var parameters = SideParameters(scope, "", out var sides);
        var (baseline, candidate) = scope.Swapped ? ("b", "a") : ("a", "b");
        var parts = new List<string>();
        // Only fixed SQL fragments are joined; names, versions and bounds travel as parameters.
        foreach (var (piece, (source, from, to)) in PredictionReader.StatsPieces(scope.From, scope.To).Index())
        {
            var column = source == StatsSource.Rows ? "input_created_at" : "bucket_start";
            var range = "";
            if (from is not null)
            {
                range += $" AND {column} >= @From{piece}";
                parameters.Add($"From{piece}", from, DbType.DateTimeOffset);
            }

            if (to is not null)
            {
                range += $" AND {column} < @To{piece}";
                parameters.Add($"To{piece}", to, DbType.DateTimeOffset);
            }

            parts.Add(source == StatsSource.Rows
                ? $"SELECT a_class, b_class, true_label, count(*) AS count FROM prediction_pairs WHERE {sides}{range} GROUP BY 1, 2, 3"
                : $"SELECT a_class, b_class, true_label, count FROM prediction_pair_counts WHERE {sides} AND span = '{(source == StatsSource.Days ? "day" : "hour")}'{range}");
        }

        var sql = $"""
            SELECT {baseline}_class AS BaselineClass, {candidate}_class AS CandidateClass, true_label AS TrueLabel, sum(count)::bigint AS Count
            FROM (
            {string.Join("\nUNION ALL\n", parts)}
            ) AS g
            GROUP BY 1, 2, 3
            HAVING sum(count) > 0
            """;
        // A few thousand groups and two partial hours at most: parallel workers cost more than the query.
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition("SET LOCAL max_parallel_workers_per_gather = 0", transaction: transaction, cancellationToken: cancellationToken));
        var groups = (await connection.QueryAsync<PairGroup>(new CommandDefinition(sql, parameters, transaction, cancellationToken: cancellationToken))).AsList();
        await transaction.CommitAsync(cancellationToken);
        return groups;
    }

    /// <summary>
    /// Up to <paramref name="limit"/> pairs whose classes differ, newest input first, after <paramref name="after"/>:
    /// a keyset walk of prediction_pairs_disagree_newest, so a deep page costs what the first does.
    /// </summary>
    public async Task<IReadOnlyList<DisagreementRow>> DisagreementsAsync(ComparisonScope scope, int limit, DisagreementCursor? after, CancellationToken cancellationToken)
    {
        var parameters = SideParameters(scope, "pp.", out var conditions);
        conditions += " AND pp.a_class <> pp.b_class";
        if (scope.From is { } from)
        {
            conditions += " AND pp.input_created_at >= @From";
            parameters.Add("From", from, DbType.DateTimeOffset);
        }

        if (scope.To is { } to)
        {
            conditions += " AND pp.input_created_at < @To";
            parameters.Add("To", to, DbType.DateTimeOffset);
        }

        if (after is { } cursor)
        {
            conditions += " AND (pp.input_created_at, pp.input_id, pp.a_id, pp.b_id) < (@AfterCreatedAt, @AfterInput, @AfterA, @AfterB)";
            parameters.Add("AfterCreatedAt", cursor.CreatedAt, DbType.DateTimeOffset);
            parameters.Add("AfterInput", cursor.InputId);
            parameters.Add("AfterA", cursor.AId);
            parameters.Add("AfterB", cursor.BId);
        }

        parameters.Add("Limit", limit);
        var sql = $"""
            SELECT pp.input_id AS InputId, pp.input_created_at AS CreatedAt, pp.true_label AS TrueLabel,
                   pp.a_id AS AId, pp.a_version AS AVersion, pp.a_class AS AClass, pa.confidence AS AConfidence,
                   pp.b_id AS BId, pp.b_version AS BVersion, pp.b_class AS BClass, pb.confidence AS BConfidence
            FROM prediction_pairs pp
            JOIN predictions pa ON pa.id = pp.a_id
            JOIN predictions pb ON pb.id = pp.b_id
            WHERE {conditions}
            ORDER BY pp.input_created_at DESC, pp.input_id DESC, pp.a_id DESC, pp.b_id DESC
            LIMIT @Limit
            """;
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return (await connection.QueryAsync<DisagreementRow>(new CommandDefinition(sql, parameters, cancellationToken: cancellationToken))).AsList();
    }

    /// <summary>The conditions that pick the two sides' pairs (columns prefixed with <paramref name="table"/>) and their parameters.</summary>
    private static DynamicParameters SideParameters(ComparisonScope scope, string table, out string conditions)
    {
        var parameters = new DynamicParameters();
        var (a, b) = (scope.StoredA, scope.StoredB);
        parameters.Add("AName", a.Model, DbType.String);
        parameters.Add("BName", b.Model, DbType.String);
        conditions = $"{table}a_name = @AName AND {table}b_name = @BName";
        if (a.Version is not null)
        {
            conditions += $" AND {table}a_version = @AVersion";
            parameters.Add("AVersion", a.Version, DbType.String);
        }

        if (b.Version is not null)
        {
            conditions += $" AND {table}b_version = @BVersion";
            parameters.Add("BVersion", b.Version, DbType.String);
        }

        return parameters;
    }
}
