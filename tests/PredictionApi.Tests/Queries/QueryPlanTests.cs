using System.Text.Json;
using Dapper;
using Npgsql;
using PredictionApi.Predictions;
using PredictionApi.Storage;

namespace PredictionApi.Tests.Queries;

/// <summary>
/// A database with the service's schema and 200,000 predictions, one a second: 96% of model 'mnist' and
/// 4% 'other'; classes 0-7 10% each, 8 19% and 9 1%; confidences spread over 0..1; one row in fifty with a
/// true label; one in twenty stored by the API key 'ci'.
/// </summary>
public sealed class LargeTableFixture : IAsyncLifetime
{
    public const int Rows = 200_000;

    public string ConnectionString { get; private set; } = null!;

    public NpgsqlDataSource DataSource { get; private set; } = null!;

    /// <summary>created_at of the newest row.</summary>
    public DateTime Newest { get; private set; }

    public async Task InitializeAsync()
    {
        ConnectionString = await TestPostgres.CreateDatabaseAsync("plans");
        DataSource = NpgsqlDataSource.Create(ConnectionString);
        await SchemaMigrator.ApplyAsync(DataSource, CancellationToken.None);
        await using var connection = await DataSource.OpenConnectionAsync();
        await connection.ExecuteAsync($"""
            INSERT INTO inputs (filename, content_type, data, sha256, byte_size, width, height, created_at)
            SELECT 'bulk.png', 'image/png', 'AA==', sha256(int8send(g)), 1, 1, 1, timestamptz '2026-01-01' - g * interval '1 second'
            FROM generate_series(1, {Rows}) g;
            INSERT INTO predictions (input_id, model_name, model_version, probabilities, likely_class, confidence, created_at, true_label, labeled_at, created_by)
            SELECT id, CASE WHEN id % 25 = 0 THEN 'other' ELSE 'mnist' END, '1', '[0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1]',
                   CASE WHEN id % 10 = 9 AND id % 100 <> 9 THEN 8 ELSE id % 10 END, ((id * 7919) % 1000) / 1000.0, created_at,
                   CASE WHEN id % 50 = 1 THEN ((id / 50) % 10)::text END,
                   CASE WHEN id % 50 = 1 THEN created_at END,
                   CASE WHEN id % 20 = 7 THEN 'ci' END
            FROM inputs;
            """, commandTimeout: 600);
        // Statistics and a visibility map, as autovacuum would leave them on a live table; VACUUM runs alone.
        await connection.ExecuteAsync("VACUUM ANALYZE inputs");
        await connection.ExecuteAsync("VACUUM ANALYZE predictions");
        Newest = await connection.ExecuteScalarAsync<DateTime>("SELECT max(created_at) FROM predictions");
    }

    public async Task DisposeAsync()
    {
        await DataSource.DisposeAsync();
        await TestPostgres.DropDatabaseAsync(ConnectionString);
    }
}

/// <summary>
/// The list query of GET /predictions, exactly as the store builds it, checked with EXPLAIN on a large
/// table: every common filter walks an index in (created_at, id) order, with no sequential scan and no sort.
/// </summary>
public sealed class QueryPlanTests(LargeTableFixture table) : IClassFixture<LargeTableFixture>
{
    /// <summary>Filter cases and the indexes that may serve them (several when a filter matches a large share of rows).</summary>
    public static TheoryData<string, string> Filters => new()
    {
        { "none", "predictions_newest" },
        { "likely_class (10% of rows)", "predictions_class_newest|predictions_newest" },
        { "likely_class (1% of rows)", "predictions_class_newest" },
        { "model (96% of rows)", "predictions_model_newest|predictions_newest" },
        { "model (4% of rows)", "predictions_model_newest" },
        { "model+likely_class", "predictions_model_class_newest" },
        { "label", "predictions_label_newest" },
        { "model+label", "predictions_model_label_newest|predictions_label_newest" },
        { "from+to", "predictions_newest" },
        { "model+from+to", "predictions_model_newest" },
        { "confidence", "predictions_newest" },
        { "likely_class+confidence", "predictions_class_newest" },
        { "created_by (5% of rows)", "predictions_created_by_newest" },
        { "created_by+model", "predictions_created_by_newest|predictions_model_newest" },
    };

    private PredictionFilter FilterFor(string name) => name switch
    {
        "none" => new PredictionFilter(),
        "likely_class (10% of rows)" => new PredictionFilter { LikelyClass = 3 },
        "likely_class (1% of rows)" => new PredictionFilter { LikelyClass = 9 },
        "model (96% of rows)" => new PredictionFilter { Model = "mnist" },
        "model (4% of rows)" => new PredictionFilter { Model = "other" },
        "model+likely_class" => new PredictionFilter { Model = "other", LikelyClass = 5 },
        "label" => new PredictionFilter { Label = "7" },
        "model+label" => new PredictionFilter { Model = "mnist", Label = "7" },
        "from+to" => new PredictionFilter { From = table.Newest.AddHours(-20), To = table.Newest.AddHours(-10) },
        "model+from+to" => new PredictionFilter { Model = "other", From = table.Newest.AddHours(-20), To = table.Newest.AddHours(-10) },
        "confidence" => new PredictionFilter { MinConfidence = 0.5f, MaxConfidence = 0.8f },
        "likely_class+confidence" => new PredictionFilter { LikelyClass = 9, MinConfidence = 0.5f },
        "created_by (5% of rows)" => new PredictionFilter { CreatedBy = "ci" },
        "created_by+model" => new PredictionFilter { CreatedBy = "ci", Model = "mnist" },
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    [Theory]
    [MemberData(nameof(Filters))]
    public async Task EachCommonFilterPagesThroughAnIndexWithoutSortingOrScanningTheTable(string filterName, string indexes)
    {
        var filter = FilterFor(filterName);
        var first = new PredictionQuery(51, filter);
        var page = await new PredictionReader(table.DataSource).ListAsync(first, CancellationToken.None);
        Assert.Equal(51, page.Count);
        // A page deep into the results, as a cursor continues it.
        var deep = first with { After = new PredictionCursor(page[^1].CreatedAt, page[^1].Id, filter.Fingerprint) };

        foreach (var query in new[] { first, deep })
        {
            var nodes = Flatten((await ExplainAsync(query)).GetProperty("Plan")).ToList();
            var types = nodes.Select(n => n.GetProperty("Node Type").GetString()).ToList();
            Assert.DoesNotContain("Seq Scan", types);
            Assert.DoesNotContain("Sort", types);
            Assert.DoesNotContain("Incremental Sort", types);
            Assert.DoesNotContain("Bitmap Heap Scan", types);
            var scan = Assert.Single(nodes, n => n.TryGetProperty("Relation Name", out var r) && r.GetString() == "predictions");
            Assert.Equal("Index Scan", scan.GetProperty("Node Type").GetString());
            Assert.Contains(scan.GetProperty("Index Name").GetString(), indexes.Split('|'));
            // The join fetches each listed row's input by primary key.
            Assert.Contains(nodes, n => n.TryGetProperty("Relation Name", out var r) && r.GetString() == "inputs" && n.GetProperty("Index Name").GetString() == "inputs_pkey");
            Assert.Equal(51, (await new PredictionReader(table.DataSource).ListAsync(query, CancellationToken.None)).Count);
        }
    }

    public static TheoryData<string> RareCombinations => new() { "narrow confidence band", "model+narrow confidence band", "label+likely_class" };

    [Theory]
    [MemberData(nameof(RareCombinations))]
    public async Task FiltersMatchingAHandfulOfRowsFindThemThroughAnIndexNotATableScan(string filterName)
    {
        var filter = filterName switch
        {
            "narrow confidence band" => new PredictionFilter { MinConfidence = 0.9995f },
            "model+narrow confidence band" => new PredictionFilter { Model = "mnist", MinConfidence = 0.999f },
            _ => new PredictionFilter { Label = "3", LikelyClass = 1 },
        };

        var nodes = Flatten((await ExplainAsync(new PredictionQuery(51, filter))).GetProperty("Plan")).ToList();

        // Sorting the few rows found is the cheap plan here; reading the whole table is not allowed.
        Assert.DoesNotContain(nodes, n => n.GetProperty("Node Type").GetString() is "Seq Scan" or "Parallel Seq Scan");
        Assert.Contains(nodes, n => n.TryGetProperty("Index Name", out var index) && index.GetString()!.StartsWith("predictions_", StringComparison.Ordinal));
        var expected = await CountAsync(filter);
        Assert.Equal(Math.Min(51, expected), (await new PredictionReader(table.DataSource).ListAsync(new PredictionQuery(51, filter), CancellationToken.None)).Count);
    }

    private async Task<long> CountAsync(PredictionFilter filter)
    {
        var conditions = new List<string>();
        var parameters = new DynamicParameters();
        filter.AddConditions(conditions, parameters);
        await using var connection = await table.DataSource.OpenConnectionAsync();
        return await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM predictions p WHERE " + string.Join(" AND ", conditions), parameters);
    }

    /// <summary>The plan PostgreSQL picks for the store's own query, with the same parameters.</summary>
    private async Task<JsonElement> ExplainAsync(PredictionQuery query)
    {
        var sql = PredictionReader.ListSql(query, out var parameters);
        await using var connection = await table.DataSource.OpenConnectionAsync();
        var json = await connection.QuerySingleAsync<string>("EXPLAIN (FORMAT JSON) " + sql, parameters);
        return JsonSerializer.Deserialize<JsonElement>(json)[0];
    }

    private static IEnumerable<JsonElement> Flatten(JsonElement node)
    {
        yield return node;
        if (node.TryGetProperty("Plans", out var children))
        {
            foreach (var child in children.EnumerateArray().SelectMany(Flatten))
            {
                yield return child;
            }
        }
    }
}
