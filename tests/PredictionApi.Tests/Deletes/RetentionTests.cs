using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Npgsql;
using PredictionApi.Predictions;
using PredictionApi.Storage;
using PredictionApi.Tests.Queries;

namespace PredictionApi.Tests.Deletes;

/// <summary>DELETE /predictions?before=&amp;max_confidence=: retention in chunks. Each test has its own database.</summary>
public sealed class RetentionTests : IAsyncLifetime
{
    private static readonly DateTime Old = new(2020, 6, 1, 0, 0, 0, DateTimeKind.Utc);
    private string _database = null!;
    private PredictionApiFactory _factory = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _database = await TestPostgres.CreateDatabaseAsync("retention");
        // A chunk smaller than the test's row counts, so several chunks are needed.
        _factory = new PredictionApiFactory(_database, new Dictionary<string, string?> { ["Retention:ChunkSize"] = "4" });
        _client = _factory.CreateClient();
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _factory.DisposeAsync();
        await TestPostgres.DropDatabaseAsync(_database);
    }

    private async Task<long> ScalarAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_database);
        return await connection.ExecuteScalarAsync<long>(sql);
    }

    private async Task<JsonElement> DeleteAsync(string query)
    {
        using var response = await _client.DeleteAsync("/predictions?" + query);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    [Fact]
    public async Task OnlyPredictionsOlderThanBeforeAreDeletedWithTheirInputsAcrossSeveralChunks()
    {
        var old = Enumerable.Range(0, 10).Select(i => new SeedRow("mnist", i, 0.9f, Old.AddHours(i))).ToList();
        var recent = Enumerable.Range(0, 3).Select(i => new SeedRow("mnist", i, 0.9f, DateTime.UtcNow.AddMinutes(-i))).ToList();
        await Seed.InsertAsync(_database, [.. old, .. recent]);

        var body = await DeleteAsync("before=2021-01-01T00:00:00Z");

        Assert.Equal(10, body.GetProperty("deleted").GetInt64());
        Assert.Equal(10, body.GetProperty("inputs_deleted").GetInt64());
        Assert.Equal(3, await ScalarAsync("SELECT count(*) FROM predictions"));
        Assert.Equal(3, await ScalarAsync("SELECT count(*) FROM inputs"));
        Assert.Equal(0, await ScalarAsync("SELECT count(*) FROM predictions WHERE created_at < '2021-01-01'"));
        // Repeating the request finds nothing more.
        Assert.Equal(0, (await DeleteAsync("before=2021-01-01T00:00:00Z")).GetProperty("deleted").GetInt64());
    }

    [Fact]
    public async Task MaxConfidenceDeletesOnlyTheUnsurePredictionsInclusive()
    {
        var rows = new[] { 0.1f, 0.3f, 0.5f, 0.51f, 0.9f, 0.99f }.Select((c, i) => new SeedRow("mnist", i, c, Old.AddMinutes(i))).ToList();
        await Seed.InsertAsync(_database, rows);

        var body = await DeleteAsync("before=2021-01-01&max_confidence=0.5");

        Assert.Equal(3, body.GetProperty("deleted").GetInt64());
        var left = (await new NpgsqlConnection(_database).QueryAsync<float>("SELECT confidence FROM predictions ORDER BY confidence")).ToArray();
        Assert.Equal([0.51f, 0.9f, 0.99f], left);
    }

    [Fact]
    public async Task AnInputStillUsedByAKeptPredictionIsNotDeleted()
    {
        var row = new SeedRow("mnist", 1, 0.9f, Old);
        await Seed.InsertAsync(_database, [row]);
        await using (var connection = new NpgsqlConnection(_database))
        {
            await connection.ExecuteAsync("""
                INSERT INTO predictions (input_id, model_name, model_version, probabilities, likely_class, confidence)
                SELECT input_id, 'other', '2', probabilities, likely_class, confidence FROM predictions WHERE id = @Id
                """, new { row.Id });
        }

        var body = await DeleteAsync("before=2021-01-01T00:00:00Z");

        Assert.Equal(1, body.GetProperty("deleted").GetInt64());
        Assert.Equal(0, body.GetProperty("inputs_deleted").GetInt64());
        Assert.Equal(1, await ScalarAsync("SELECT count(*) FROM inputs"));
    }

    [Theory]
    [InlineData("", "before is required")]
    [InlineData("max_confidence=0.5", "before is required")]
    [InlineData("before=", "before is required")]
    [InlineData("before=last%20week", "ISO 8601")]
    [InlineData("before=2021-13-01", "ISO 8601")]
    [InlineData("before=06/01/2020", "ISO 8601")]
    [InlineData("before=1590969600", "ISO 8601")]
    [InlineData("before=2999-01-01T00:00:00Z", "in the future")]
    [InlineData("before=2021-01-01&max_confidence=1.5", "max_confidence must be a number from 0 to 1")]
    [InlineData("before=2021-01-01&max_confidence=abc", "max_confidence must be a number from 0 to 1")]
    [InlineData("before=2021-01-01&max_confidence=NaN", "max_confidence must be a number from 0 to 1")]
    public async Task BadRetentionRequestsAre400AndDeleteNothing(string query, string detail)
    {
        await Seed.InsertAsync(_database, [new SeedRow("mnist", 1, 0.2f, Old)]);
        using var response = await _client.DeleteAsync("/predictions?" + query);
        await ProblemAssert.AssertProblemAsync(response, HttpStatusCode.BadRequest, detail);
        Assert.Equal(1, await ScalarAsync("SELECT count(*) FROM predictions"));
    }

    [Fact]
    public async Task ATimeWithoutAnOffsetIsUtc()
    {
        await Seed.InsertAsync(_database, [new SeedRow("mnist", 1, 0.2f, Old), new SeedRow("mnist", 2, 0.2f, Old.AddHours(2))]);
        // 01:00 UTC is between the two rows; read as local time elsewhere it would not be.
        Assert.Equal(1, (await DeleteAsync("before=2020-06-01T01:00:00")).GetProperty("deleted").GetInt64());
    }

    [Theory]
    [InlineData("before=2020-06-01T03:00:00%2B02:00")]
    [InlineData("before=2020-06-01T03:00:00+02:00")]
    [InlineData("before=2020-05-31T20:00:00-05:00")]
    public async Task ATimeWithAnOffsetIsReadAsTheFiltersReadIt(string query)
    {
        // 01:00 UTC either way; an unescaped '+' arrives as a space and is read back as '+'.
        await Seed.InsertAsync(_database, [new SeedRow("mnist", 1, 0.2f, Old), new SeedRow("mnist", 2, 0.2f, Old.AddHours(2))]);
        Assert.Equal(1, (await DeleteAsync(query)).GetProperty("deleted").GetInt64());
    }

    [Fact]
    public async Task AChunkWalksTheCreatedAtIndexFromTheOldestRow()
    {
        await using var connection = new NpgsqlConnection(_database);
        await connection.ExecuteAsync("""
            INSERT INTO inputs (filename, content_type, data, sha256, byte_size, width, height)
            SELECT 'bulk.png', 'image/png', 'AA==', sha256(int8send(g)), 1, 1, 1 FROM generate_series(1, 20000) g;
            INSERT INTO predictions (input_id, model_name, model_version, probabilities, likely_class, confidence, created_at)
            SELECT id, 'mnist', '1', '[1]', 0, (id % 100) / 100.0, timestamptz '2026-01-01' - id * interval '1 minute' FROM inputs;
            ANALYZE inputs;
            ANALYZE predictions;
            """);
        foreach (var maxConfidence in new float?[] { null, 0.5f })
        {
            var plan = await connection.ExecuteScalarAsync<string>("EXPLAIN (FORMAT JSON) " + PredictionDeleter.ChunkSql,
                new
                {
                    before = new DateTime(2025, 6, 1, 0, 0, 0, DateTimeKind.Utc), maxConfidence, chunkSize = 1000,
                    afterCreatedAt = new DateTime(2024, 6, 1, 0, 0, 0, DateTimeKind.Utc), afterId = 5000L,
                });
            Assert.NotNull(plan);
            Assert.Contains("\"Index Name\": \"predictions_newest\"", plan);
            Assert.DoesNotContain("Seq Scan", plan);
            Assert.DoesNotContain("\"Node Type\": \"Sort\"", plan);
        }
    }

    [Fact]
    public async Task ADeleteTheDatabaseStopsPartwaySaysHowManyWereDeletedAndARepeatDeletesTheRest()
    {
        await Seed.InsertAsync(_database, Enumerable.Range(0, 14).Select(i => new SeedRow("mnist", i % 10, 0.9f, Old.AddHours(i))));
        await using (var connection = new NpgsqlConnection(_database))
        {
            // The third chunk's delete fails as a server shutting down fails it (a sequence is not rolled back with it).
            await connection.ExecuteAsync("""
                CREATE SEQUENCE chunks;
                CREATE FUNCTION fail_third_chunk() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF nextval('chunks') = 3 THEN
                        RAISE EXCEPTION 'terminating connection due to administrator command' USING ERRCODE = '57P01';
                    END IF;
                    RETURN NULL;
                END $$;
                CREATE TRIGGER fail_third_chunk AFTER DELETE ON predictions FOR EACH STATEMENT EXECUTE FUNCTION fail_third_chunk();
                """);
        }

        using var failed = await _client.DeleteAsync("/predictions?before=2021-01-01");

        // Two chunks of four were committed: the answer says so instead of "nothing was changed".
        var problem = await ProblemAssert.AssertProblemAsync(failed, HttpStatusCode.ServiceUnavailable, "8 predictions (8 inputs) had been deleted");
        Assert.Equal("Partly deleted", problem.GetProperty("title").GetString());
        Assert.Contains("the chunk in progress was rolled back", problem.GetProperty("detail").GetString());
        Assert.Equal(6, await ScalarAsync("SELECT count(*) FROM predictions"));
        Assert.Equal(6, await ScalarAsync("SELECT count(*) FROM inputs"));
        var stats = await _client.GetFromJsonAsync<JsonElement>("/predictions/stats");
        Assert.Equal(6, stats.GetProperty("total").GetInt64());

        Assert.Equal(6, (await DeleteAsync("before=2021-01-01")).GetProperty("deleted").GetInt64());
        Assert.Equal(0, await ScalarAsync("SELECT count(*) FROM predictions"));
    }

    [Fact]
    public async Task RowsWithTheSameTimeAreAllDeletedAcrossChunkBoundaries()
    {
        // Each chunk starts after the previous one's last (created_at, id): ties on the time are ordered by id.
        await Seed.InsertAsync(_database, Enumerable.Range(0, 11).Select(i => new SeedRow("mnist", i % 10, i % 2 == 0 ? 0.3f : 0.9f, Old)));
        await Seed.InsertAsync(_database, [new SeedRow("mnist", 1, 0.3f, Old.AddDays(400))]);

        // Six of the eleven old rows are unsure; the walk with the filter passes over the confident ones.
        Assert.Equal(6, (await DeleteAsync("before=2021-01-01&max_confidence=0.5")).GetProperty("deleted").GetInt64());
        Assert.Equal(5, (await DeleteAsync("before=2021-01-01")).GetProperty("deleted").GetInt64());
        Assert.Equal(1, await ScalarAsync("SELECT count(*) FROM predictions"));
        var stats = await _client.GetFromJsonAsync<JsonElement>("/predictions/stats");
        Assert.Equal(1, stats.GetProperty("total").GetInt64());
    }

    [Fact]
    public async Task ARowCommittedBehindTheWalkIsStillDeleted()
    {
        // Days apart: the open transaction below holds its statistics' groups (its hour and day) until it commits.
        await Seed.InsertAsync(_database, Enumerable.Range(0, 9).Select(i => new SeedRow("mnist", i, 0.9f, Old.AddDays(i + 1))));
        // An open transaction holds a row older than every other, to commit once the walk has passed its time.
        await using var late = new NpgsqlConnection(_database);
        await late.OpenAsync();
        await using var transaction = await late.BeginTransactionAsync();
        await late.ExecuteAsync("""
            WITH i AS (INSERT INTO inputs (filename, content_type, data, sha256, byte_size, width, height)
                       VALUES ('late.png', 'image/png', 'AA==', sha256('late'), 1, 1, 1) RETURNING id)
            INSERT INTO predictions (input_id, model_name, model_version, probabilities, likely_class, confidence, created_at)
            SELECT id, 'mnist', '1', '[1]', 0, 0.9, @created FROM i
            """, new { created = Old }, transaction);
        // The walk's second chunk (days 5 to 8, 4 rows a chunk) waits for a row another transaction holds.
        await using var holder = new NpgsqlConnection(_database);
        await holder.OpenAsync();
        await using var hold = await holder.BeginTransactionAsync();
        await holder.ExecuteAsync("SELECT id FROM predictions WHERE created_at = @day FOR UPDATE", new { day = Old.AddDays(6) }, hold);

        var deleting = DeleteAsync("before=2021-01-01");
        await WaitUntilAsync(async () => await ScalarAsync("SELECT count(*) FROM predictions WHERE created_at < '2021-01-01'") == 5);
        // The walk is past Old now, and the late row commits behind it.
        await transaction.CommitAsync();
        await hold.RollbackAsync();
        var body = await deleting;

        Assert.Equal(0, await ScalarAsync("SELECT count(*) FROM predictions WHERE created_at < '2021-01-01'"));
        Assert.Equal(10, body.GetProperty("deleted").GetInt64());
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the condition did not hold within 10 s");
            await Task.Delay(5);
        }
    }
}
