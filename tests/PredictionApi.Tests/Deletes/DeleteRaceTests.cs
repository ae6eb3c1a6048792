using System.Net;
using System.Text.Json;
using Dapper;
using Npgsql;
using PredictionApi.Predictions;

namespace PredictionApi.Tests.Deletes;

/// <summary>
/// DELETE /prediction/{id} while another model's prediction of the same input is being stored (the predict command,
/// a shadow): the comparison's pairs must still be those of the predictions that exist, and neither side may fail.
/// The interleaving is forced: a reader holds the input's row (FOR KEY SHARE, as a foreign key check does) so that
/// the delete waits at the input while the other prediction is written.
/// </summary>
public sealed class DeleteRaceTests(ServiceFixture service) : IClassFixture<ServiceFixture>
{
    private readonly HttpClient _client = service.Factory.CreateClient();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task DeletingAPredictionWhileAnotherModelClassifiesItsInputLeavesExactPairs(bool alreadyCompared)
    {
        var body = await _client.PostPredictionAsync(Mnist.Png(alreadyCompared ? 2 : 1));
        var (deleted, inputId) = (body.GetProperty("prediction_id").GetInt64(), body.GetProperty("input_id").GetInt64());
        await using (var connection = new NpgsqlConnection(service.ConnectionString))
        {
            await connection.OpenAsync();
            if (alreadyCompared)
            {
                // Already a pair (mnist, sketch:1), so the delete has pairs to recompute.
                await PredictionWriter.RecordForInputAsync(connection, inputId, Sketch("1", 4), CancellationToken.None);
            }
        }

        await using var holder = new NpgsqlConnection(service.ConnectionString);
        await holder.OpenAsync();
        var hold = await holder.BeginTransactionAsync();
        await holder.ExecuteAsync("SELECT 1 FROM inputs WHERE id = @inputId FOR KEY SHARE", new { inputId }, hold);

        var delete = _client.DeleteAsync($"/prediction/{deleted}");
        await WaitForLockWaitAsync();
        // Another model classifies the input meanwhile, as the predict command does for known bytes.
        await using (var connection = new NpgsqlConnection(service.ConnectionString))
        {
            await connection.OpenAsync();
            var insert = PredictionWriter.RecordForInputAsync(connection, inputId, Sketch("2", 5), CancellationToken.None);
            var done = await Task.WhenAny(insert, Task.Delay(TimeSpan.FromSeconds(10)));
            await hold.RollbackAsync();
            // Both finish either way (PostgreSQL breaks a deadlock), so a failure below leaves nothing waiting.
            await Task.WhenAll(Task.WhenAny(insert), delete).WaitAsync(TimeSpan.FromSeconds(30));
            Assert.True(done == insert, "the other model's prediction waited for the delete");
            await insert;
        }

        using var response = await delete;
        Assert.True(response.StatusCode == HttpStatusCode.NoContent, $"DELETE answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");

        await AssertPairsExactAsync();
        using var compare = await _client.GetAsync("/models/compare?baseline=mnist&candidate=sketch");
        var answer = JsonSerializer.Deserialize<JsonElement>(await compare.Content.ReadAsStringAsync());
        Assert.Equal(0, answer.GetProperty("inputs").GetInt64());
        Assert.Empty(answer.GetProperty("disagreements").EnumerateArray());
    }

    private static NewPrediction Sketch(string version, int likelyClass)
    {
        var probabilities = new float[10];
        probabilities[likelyClass] = 1;
        return new NewPrediction("sketch", version, probabilities, likelyClass, 1);
    }

    /// <summary>Until a backend of this database waits for a lock (the delete, at the held input).</summary>
    private async Task WaitForLockWaitAsync()
    {
        await using var connection = new NpgsqlConnection(service.ConnectionString);
        for (var waited = 0; waited < 200; waited++)
        {
            if (await connection.ExecuteScalarAsync<long>(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'") > 0)
            {
                return;
            }

            await Task.Delay(50);
        }

        Assert.Fail("the delete never waited for the held input");
    }

    /// <summary>The maintained pairs and their counts against the pairs made from the predictions that exist.</summary>
    private async Task AssertPairsExactAsync()
    {
        const string directSql = """
            WITH current AS (
                SELECT DISTINCT ON (input_id, model_name, model_version) input_id, model_name, model_version, id, likely_class, true_label
                FROM predictions ORDER BY input_id, model_name, model_version, id DESC)
            SELECT a.input_id || ':' || a.id || ':' || b.id || ':' || a.likely_class || ':' || b.likely_class
            FROM current a JOIN current b ON b.input_id = a.input_id
             AND (a.model_name COLLATE "C", a.model_version COLLATE "C") < (b.model_name COLLATE "C", b.model_version COLLATE "C")
            ORDER BY 1
            """;
        const string pairsSql = """
            SELECT input_id || ':' || a_id || ':' || b_id || ':' || a_class || ':' || b_class FROM prediction_pairs ORDER BY 1
            """;
        const string countsSql = """
            SELECT coalesce((SELECT sum(count) FROM prediction_pair_counts WHERE span = 'hour'), 0)
                 - (SELECT count(*) FROM prediction_pairs)
            """;
        await using var connection = new NpgsqlConnection(service.ConnectionString);
        Assert.Equal((await connection.QueryAsync<string>(directSql)).ToList(), (await connection.QueryAsync<string>(pairsSql)).ToList());
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>(countsSql));
    }
}
