using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using PredictionApi.Predictions;
using PredictionApi.Storage;
using PredictionApi.Tests.Queries;

namespace PredictionApi.Tests.Feedback;

/// <summary>
/// Ground truth belongs to the input: a true label recorded through any prediction is every model's prediction
/// of that input's too, whichever path writes it, and databases labelled before that are migrated. Own database.
/// </summary>
public sealed class GroundTruthTests : IAsyncLifetime
{
    private string _database = null!;
    private PredictionApiFactory _factory = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _database = await TestPostgres.CreateDatabaseAsync("truth");
        _factory = new PredictionApiFactory(_database);
        _client = _factory.CreateClient();
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _factory.DisposeAsync();
        await TestPostgres.DropDatabaseAsync(_database);
    }

    private Task<HttpResponseMessage> PatchAsync(long id, string json) =>
        _client.PatchAsync($"/prediction/{id}", new StringContent(json, Encoding.UTF8, "application/json"));

    private async Task<JsonElement> GetAsync(long id) => await _client.GetFromJsonAsync<JsonElement>($"/prediction/{id}");

    /// <summary>Another model's prediction of the input of <paramref name="predictionId"/>, stored later, as a shadow model's would be.</summary>
    private async Task<long> CopyAsync(long predictionId, string model, string version, int likelyClass)
    {
        await using var connection = new NpgsqlConnection(_database);
        return await connection.ExecuteScalarAsync<long>("""
            INSERT INTO predictions (input_id, model_name, model_version, probabilities, likely_class, confidence)
            SELECT input_id, @model, @version, probabilities, @likelyClass, confidence FROM predictions WHERE id = @predictionId
            RETURNING id
            """, new { predictionId, model, version, likelyClass });
    }

    [Theory]
    [InlineData("\"\"")]
    [InlineData("\"a\\tb\"")]
    public async Task ALabelThroughAModelNotLoadedIsOneTheLabelFilterCanSelect(string label)
    {
        var first = (await _client.PostPredictionAsync(Mnist.Png(0))).GetProperty("prediction_id").GetInt64();
        var retired = await CopyAsync(first, "retired", "1", 3);

        // Accepted before, and copied to the input and to mnist's prediction, where label= could never find it.
        using var response = await PatchAsync(retired, $$"""{"true_label": {{label}}}""");

        await ProblemAssert.AssertProblemAsync(response, HttpStatusCode.BadRequest, "without control characters");
        foreach (var id in new[] { first, retired })
        {
            Assert.Equal(JsonValueKind.Null, (await GetAsync(id)).GetProperty("true_label").ValueKind);
        }

        using var named = await PatchAsync(retired, """{"true_label": "cat"}""");
        Assert.Equal(HttpStatusCode.OK, named.StatusCode);
    }

    [Fact]
    public async Task ALabelRecordedThroughOneModelsPredictionLabelsEveryPredictionOfTheInput()
    {
        var first = (await _client.PostPredictionAsync(Mnist.Png(0))).GetProperty("prediction_id").GetInt64();
        var sketch = await CopyAsync(first, "sketch", "1", 3);
        var second = await CopyAsync(first, "mnist", "2", 7);

        // Through the other model's prediction: the label is the input's, the note stays on the prediction patched.
        using (var response = await PatchAsync(sketch, """{"true_label": "7", "note": "seen by a person"}"""))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var labeledAt = (await GetAsync(sketch)).GetProperty("labeled_at").GetDateTime();
        foreach (var id in new[] { first, second })
        {
            var stored = await GetAsync(id);
            Assert.Equal("7", stored.GetProperty("true_label").GetString());
            Assert.Equal(labeledAt, stored.GetProperty("labeled_at").GetDateTime());
            Assert.Equal(JsonValueKind.Null, stored.GetProperty("note").ValueKind);
        }

        Assert.Equal("seen by a person", (await GetAsync(sketch)).GetProperty("note").GetString());
        var listed = await _client.GetFromJsonAsync<JsonElement>("/predictions?model=mnist&label=7");
        Assert.Equal([second, first], listed.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("prediction_id").GetInt64()));

        // Changed and cleared through yet another prediction.
        (await PatchAsync(second, """{"true_label": "1"}""")).EnsureSuccessStatusCode();
        Assert.Equal("1", (await GetAsync(sketch)).GetProperty("true_label").GetString());
        (await PatchAsync(first, """{"true_label": null}""")).EnsureSuccessStatusCode();
        foreach (var id in new[] { first, second, sketch })
        {
            var stored = await GetAsync(id);
            Assert.Equal(JsonValueKind.Null, stored.GetProperty("true_label").ValueKind);
            Assert.Equal(JsonValueKind.Null, stored.GetProperty("labeled_at").ValueKind);
        }

        // The statistics of each model count the input's label.
        (await PatchAsync(first, """{"true_label": "4"}""")).EnsureSuccessStatusCode();
        var stats = await _client.GetFromJsonAsync<JsonElement>("/predictions/stats?model=sketch");
        Assert.Equal(1, stats.GetProperty("feedback").GetProperty("labeled").GetInt64());
    }

    [Fact]
    public async Task APredictionAddedLaterToALabelledInputTakesItsLabel()
    {
        var first = (await _client.PostPredictionAsync(Mnist.Png(1))).GetProperty("prediction_id").GetInt64();
        (await PatchAsync(first, """{"true_label": "2"}""")).EnsureSuccessStatusCode();
        var inputId = (await GetAsync(first)).GetProperty("input_id").GetInt64();

        // The writer's path for an existing input (the predict command's, and the one for other models).
        StoredIds written;
        await using (var dataSource = NpgsqlDataSource.Create(_database))
        await using (var connection = await dataSource.OpenConnectionAsync())
        {
            written = await PredictionWriter.RecordForInputAsync(connection, inputId,
                new NewPrediction("sketch", "1", new float[10], 5, 0.5f), CancellationToken.None);
        }

        Assert.Equal("2", (await GetAsync(written.PredictionId)).GetProperty("true_label").GetString());
        // A row written with plain SQL gets it from the triggers.
        var copied = await CopyAsync(first, "other", "1", 2);
        Assert.Equal("2", (await GetAsync(copied)).GetProperty("true_label").GetString());
        // A prediction stored with a label of its own (as seeds write them) labels the input and so its siblings.
        await using (var connection = new NpgsqlConnection(_database))
        {
            await connection.ExecuteAsync("""
                INSERT INTO predictions (input_id, model_name, model_version, probabilities, likely_class, confidence, true_label, labeled_at)
                SELECT input_id, 'seeded', '1', probabilities, 8, confidence, '8', now() FROM predictions WHERE id = @first
                """, new { first });
            Assert.Equal(["8"], await connection.QueryAsync<string>(
                "SELECT DISTINCT coalesce(p.true_label, '-') FROM predictions p WHERE p.input_id = @inputId UNION SELECT coalesce(true_label, '-') FROM inputs WHERE id = @inputId",
                new { inputId }));
        }
    }

    [Fact]
    public async Task MigrationGivesEachInputItsMostRecentlyLabelledPredictionsLabelAndCountsStayExact()
    {
        await using var dataSource = NpgsqlDataSource.Create(_database);
        await using (var connection = await dataSource.OpenConnectionAsync())
        {
            // A database from before ground truth moved to the input: labels on predictions only, no pairs.
            await connection.ExecuteAsync("""
                DELETE FROM schema_applied;
                DROP TRIGGER inputs_label_propagate ON inputs;
                DROP TRIGGER predictions_label_to_input ON predictions;
                DROP TRIGGER predictions_inserted_label_to_input ON predictions;
                DROP TRIGGER prediction_pairs_insert ON predictions;
                DROP TRIGGER prediction_pairs_update ON predictions;
                DROP TRIGGER prediction_pairs_delete ON predictions;
                DROP TRIGGER prediction_pairs_truncate ON predictions;
                DROP TABLE prediction_pairs, prediction_pair_counts;
                ALTER TABLE inputs DROP COLUMN true_label, DROP COLUMN labeled_at;
                """);
        }

        var start = new DateTime(2024, 5, 1, 10, 0, 0, DateTimeKind.Utc);
        // Per input: (model, version, class, label, labeled_at in minutes after start or null), in insertion (id) order.
        var inputs = new (string Model, string Version, int Class, string? Label, int? LabeledAt)[][]
        {
            [("mnist", "1", 3, "3", 10), ("mnist", "2", 5, "5", 20), ("sketch", "1", 1, null, null)],
            [("mnist", "1", 1, "1", null), ("mnist", "2", 2, "2", 5)],
            [("mnist", "1", 1, "1", null), ("mnist", "2", 6, "6", null)],
            [("mnist", "1", 9, "9", 50), ("mnist", "2", 9, "4", 30)],
            [("mnist", "1", 0, null, null), ("mnist", "2", 0, null, null)],
        };
        string?[] expected = ["5", "2", "6", "9", null];
        var ids = new List<long>();
        await using (var connection = await dataSource.OpenConnectionAsync())
        {
            foreach (var (predictions, n) in inputs.Select((p, n) => (p, n)))
            {
                var inputId = await connection.ExecuteScalarAsync<long>("""
                    INSERT INTO inputs (filename, content_type, data, sha256, byte_size, width, height, created_at)
                    VALUES ('old.png', 'image/png', @Image, sha256(convert_to(@n::text, 'UTF8')), 1, 1, 1, @created)
                    RETURNING id
                    """, new { Image = Seed.ImageBase64, n, created = start.AddMinutes(n) });
                foreach (var p in predictions)
                {
                    await connection.ExecuteAsync("""
                        INSERT INTO predictions (input_id, model_name, model_version, probabilities, likely_class, confidence, created_at, true_label, labeled_at)
                        VALUES (@inputId, @Model, @Version, '[0.1]', @Class, 0.5, @created, @Label, @labeledAt)
                        """, new { inputId, p.Model, p.Version, p.Class, p.Label, created = start.AddMinutes(n), labeledAt = p.LabeledAt is { } m ? start.AddMinutes(m) : (DateTime?)null });
                }

                ids.Add(inputId);
            }
        }

        await SchemaMigrator.ApplyAsync(dataSource, CancellationToken.None);
        // A later schema version runs the file again: the labels and pairs are left alone.
        await using (var connection = await dataSource.OpenConnectionAsync())
        {
            await connection.ExecuteAsync("DELETE FROM schema_applied");
        }

        await SchemaMigrator.ApplyAsync(dataSource, CancellationToken.None);

        await using (var connection = await dataSource.OpenConnectionAsync())
        {
            foreach (var (inputId, label) in ids.Zip(expected))
            {
                Assert.Equal(label, await connection.ExecuteScalarAsync<string?>("SELECT true_label FROM inputs WHERE id = @inputId", new { inputId }));
                Assert.Equal([label], (await connection.QueryAsync<string?>("SELECT DISTINCT true_label FROM predictions WHERE input_id = @inputId", new { inputId })).ToList());
            }

            // The pairs of the old predictions exist (three versions: three pairs), with the migrated label.
            Assert.Equal(3 + 1 + 1 + 1 + 1, await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM prediction_pairs"));
            Assert.Equal(["6"], await connection.QueryAsync<string>("SELECT true_label FROM prediction_pairs WHERE input_id = @id", new { id = ids[2] }));
        }

        // The statistics count the migrated labels exactly.
        var reader = _factory.Services.GetRequiredService<PredictionReader>();
        foreach (var model in new[] { "mnist", "sketch" })
        {
            var actual = await reader.StatsGroupsAsync(new PredictionFilter { Model = model }, CancellationToken.None);
            var labeled = actual.Where(g => g.TrueLabel is not null).Sum(g => g.Count);
            Assert.Equal(model == "mnist" ? 8 : 1, labeled);
            Assert.Equal(model == "mnist" ? 2 : 1, actual.Where(g => g.TrueLabel == "5").Sum(g => g.Count));
        }
    }
}
