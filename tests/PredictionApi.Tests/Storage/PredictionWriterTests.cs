using System.Diagnostics.Metrics;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using PredictionApi.Imaging;
using PredictionApi.Observability;
using PredictionApi.Predictions;
using PredictionApi.Storage;
using PredictionApi.Storage.InputStores;

namespace PredictionApi.Tests.Storage;

/// <summary>The recorder and the store against a real PostgreSQL: atomic writes, reads, and index-backed pages.</summary>
public sealed class PredictionWriterTests : IAsyncLifetime
{
    private string _database = null!;
    private NpgsqlDataSource _dataSource = null!;
    private PredictionReader _store = null!;
    private PredictionWriter _recorder = null!;
    private GroupCommit _groupCommit = null!;

    public async Task InitializeAsync()
    {
        _database = await TestPostgres.CreateDatabaseAsync("store");
        _dataSource = NpgsqlDataSource.Create(_database);
        await SchemaMigrator.ApplyAsync(_dataSource, CancellationToken.None);
        _store = new PredictionReader(_dataSource);
        var metrics = new ServiceMetrics(new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>());
        _groupCommit = new GroupCommit(_dataSource, Options.Create(new GroupCommitOptions()), metrics, NullLogger<GroupCommit>.Instance);
        await _groupCommit.StartAsync(CancellationToken.None);
        _recorder = new PredictionWriter(_dataSource, new DatabaseInputStore(), _groupCommit, metrics);
    }

    public async Task DisposeAsync()
    {
        await _groupCommit.StopAsync(CancellationToken.None);
        await _dataSource.DisposeAsync();
        await TestPostgres.DropDatabaseAsync(_database);
    }

    private static RecordedUpload Upload(string filename) => new(filename, new byte[] { 1, 2, 3 }, new ImageHeader(ImageFormat.Png, 28, 28));

    [Fact]
    public async Task RecordingStoresTheInputAndItsPredictionLinked()
    {
        var ids = await _recorder.RecordAsync(Upload("a.png"), new NewPrediction("m", "2", [0.25f, 0.75f], 1, 0.75f), CancellationToken.None);

        var row = await _store.GetAsync(ids.PredictionId, CancellationToken.None);
        Assert.NotNull(row);
        Assert.Equal(ids.InputId, row.InputId);
        Assert.Equal("a.png", row.Filename);
        Assert.Equal("AQID", row.Data);
        Assert.Equal(("database", null), (row.StorageKind, row.ObjectKey));
        var contract = row.ToContract(withImage: true);
        Assert.Equal([0.25f, 0.75f], contract.Prediction);
        Assert.Equal(new ModelRef("m", "2"), contract.Model);
        Assert.Equal("data:image/png;base64,AQID", contract.Image);
        Assert.Equal(ids.CreatedAt, row.CreatedAt);
        Assert.True(Math.Abs((DateTime.UtcNow - row.CreatedAt).TotalMinutes) < 5);
        await using var connection = await _dataSource.OpenConnectionAsync();
        var input = await connection.QuerySingleAsync<(byte[] Sha256, int ByteSize, int Width, int Height)>(
            "SELECT sha256, byte_size, width, height FROM inputs WHERE id = @InputId", new { ids.InputId });
        Assert.Equal(System.Security.Cryptography.SHA256.HashData([1, 2, 3]), input.Sha256);
        Assert.Equal((3, 28, 28), (input.ByteSize, input.Width, input.Height));
    }

    [Fact]
    public async Task AFailedPredictionInsertLeavesNoInputBehind()
    {
        // The prediction row violates a CHECK constraint (confidence above 1) after the input row was inserted.
        var marker = $"rollback-{Guid.NewGuid():N}.png";
        await Assert.ThrowsAsync<PostgresException>(() =>
            _recorder.RecordAsync(Upload(marker), new NewPrediction("m", "1", [1f], 0, 1.5f), CancellationToken.None));

        await using var connection = await _dataSource.OpenConnectionAsync();
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM inputs WHERE filename = @marker", new { marker }));
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM predictions"));
    }

    [Fact]
    public async Task ACancelledInsertStoresNothing()
    {
        var marker = $"cancel-{Guid.NewGuid():N}.png";
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            _recorder.RecordAsync(Upload(marker), new NewPrediction("m", "1", [1f], 0, 1f), cancelled.Token));

        await using var connection = await _dataSource.OpenConnectionAsync();
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM inputs WHERE filename = @marker", new { marker }));
    }

    [Fact]
    public async Task APredictionForAStoredInputIsAddedBesideTheFirstAndOneForAMissingInputIsRefused()
    {
        var first = await _recorder.RecordAsync(Upload("shared.png"), new NewPrediction("m", "1", [0.4f, 0.6f], 1, 0.6f), CancellationToken.None);
        await using var connection = await _dataSource.OpenConnectionAsync();

        var second = await PredictionWriter.RecordForInputAsync(connection, first.InputId, new NewPrediction("m", "2", [0.9f, 0.1f], 0, 0.9f), CancellationToken.None);

        Assert.Equal(first.InputId, second.InputId);
        Assert.NotEqual(first.PredictionId, second.PredictionId);
        var row = await _store.GetAsync(second.PredictionId, CancellationToken.None);
        Assert.Equal(("m", "2", 0, 0.9f), (row!.ModelName, row.ModelVersion, row.LikelyClass, row.Confidence));
        Assert.Equal(1, await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM inputs WHERE filename = 'shared.png'"));

        var missing = await Assert.ThrowsAsync<PostgresException>(() =>
            PredictionWriter.RecordForInputAsync(connection, long.MaxValue, new NewPrediction("m", "3", [1f], 0, 1f), CancellationToken.None));
        Assert.Equal(PostgresErrorCodes.ForeignKeyViolation, missing.SqlState);
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM predictions WHERE model_version = '3'"));
    }

    [Fact]
    public async Task PagesOfALargeTableAreServedFromTheIndexWithoutSortingOrScanningTheTable()
    {
        await using (var connection = await _dataSource.OpenConnectionAsync())
        {
            // 100,000 pairs spread over time, models and classes.
            await connection.ExecuteAsync("""
                WITH i AS (
                    INSERT INTO inputs (filename, content_type, data, sha256, byte_size, width, height, created_at)
                    SELECT 'bulk.png', 'image/png', 'AA==', sha256(g::text::bytea), 1, 1, 1, now() - g * interval '1 second'
                    FROM generate_series(1, 100000) g RETURNING id, created_at)
                INSERT INTO predictions (input_id, model_name, model_version, probabilities, likely_class, confidence, created_at)
                SELECT id, CASE WHEN id % 4 = 0 THEN 'other' ELSE 'mnist' END, '1', '[1]', (id % 10)::int, 1, created_at FROM i
                """);
            await connection.ExecuteAsync("ANALYZE inputs; ANALYZE predictions");
        }

        var page = await _store.ListAsync(new PredictionQuery(50, new PredictionFilter()), CancellationToken.None);
        var cursor = new PredictionCursor(page[^1].CreatedAt, page[^1].Id, 0);
        foreach (var query in new[]
        {
            new PredictionQuery(51, new PredictionFilter()),
            new PredictionQuery(51, new PredictionFilter(), cursor),
            new PredictionQuery(51, new PredictionFilter { Model = "mnist" }, cursor),
            new PredictionQuery(51, new PredictionFilter { Model = "mnist", LikelyClass = 3 }, cursor),
            new PredictionQuery(51, new PredictionFilter { LikelyClass = 7 }, cursor),
        })
        {
            var plan = await ExplainAsync(query);
            Assert.DoesNotContain("Seq Scan on predictions", plan);
            Assert.DoesNotContain("Sort", plan);
            Assert.Contains("Index", plan);
            Assert.Equal(51, (await _store.ListAsync(query, CancellationToken.None)).Count);
        }
    }

    /// <summary>The plan PostgreSQL picks for the store's own list query.</summary>
    private async Task<string> ExplainAsync(PredictionQuery query)
    {
        // Capture the SQL the store sends by running it through EXPLAIN with the same parameters.
        await using var connection = await _dataSource.OpenConnectionAsync();
        var sql = PredictionReader.ListSql(query, out var parameters);
        var lines = await connection.QueryAsync<string>("EXPLAIN " + sql, parameters);
        return string.Join('\n', lines);
    }
}
