using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace PredictionApi.Tests.Hostile;

/// <summary>
/// The connection to PostgreSQL breaks after the database committed but before its reply arrived (a
/// proxy on loopback loses the reply): the service must not claim that nothing was stored, and a retry
/// with the same Idempotency-Key must return the stored answer instead of storing the image twice.
/// </summary>
public sealed class LostReplyTests : IAsyncLifetime
{
    private string _database = null!;
    private PostgresProxy _proxy = null!;
    private PredictionApiFactory _factory = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _database = await TestPostgres.CreateDatabaseAsync("lost");
        _proxy = new PostgresProxy(_database);
        _factory = new PredictionApiFactory(_proxy.ConnectionString);
        _client = _factory.CreateClient();
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _factory.DisposeAsync();
        await _proxy.DisposeAsync();
        await TestPostgres.DropDatabaseAsync(_database);
    }

    private async Task<long> CountAsync(string fileName)
    {
        await using var connection = new NpgsqlConnection(_database);
        return await connection.ExecuteScalarAsync<long>(
            "SELECT count(*) FROM predictions p JOIN inputs i ON i.id = p.input_id WHERE i.filename = @fileName", new { fileName });
    }

    private Task<HttpResponseMessage> PostAsync(byte[] png, string fileName, string? key = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/prediction")
        {
            Content = new MultipartFormDataContent { { new ByteArrayContent(png), "file", fileName } },
        };
        if (key is not null)
        {
            request.Headers.Add("Idempotency-Key", key);
        }

        return _client.SendAsync(request);
    }

    [Fact]
    public async Task AReplyLostAfterTheInsertCommittedIsAnUnknownOutcomeNotNothingStored()
    {
        // Warm the pool so the lost reply is the insert's, not a connection start-up's.
        using (var warm = await PostAsync(Mnist.Png(1), "warm.png"))
        {
            Assert.Equal(HttpStatusCode.OK, warm.StatusCode);
        }

        // A lone upload is stored by one INSERT statement, which is its own transaction.
        _proxy.DropReplyContaining("INSERT 0 1");
        using var response = await PostAsync(Mnist.Png(0), "lost.png");

        Assert.True(_proxy.Dropped);
        var problem = await ProblemAssert.AssertProblemAsync(response, HttpStatusCode.ServiceUnavailable, "may or may not have been stored");
        Assert.DoesNotContain("nothing was stored", problem.GetProperty("detail").GetString());
        // It was stored: the database committed before the reply was lost.
        Assert.Equal(1, await CountAsync("lost.png"));
        using var after = await PostAsync(Mnist.Png(2), "after.png");
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
    }

    [Fact]
    public async Task ARetryWithTheSameKeyAfterALostCommitReplyGetsTheStoredAnswerAndStoresNothingMore()
    {
        var key = Guid.NewGuid().ToString();
        var png = Mnist.Png(0);
        _proxy.DropReplyContaining("COMMIT");
        using (var lost = await PostAsync(png, "keyed.png", key))
        {
            Assert.True(_proxy.Dropped);
            await ProblemAssert.AssertProblemAsync(lost, HttpStatusCode.ServiceUnavailable, "Idempotency-Key");
        }

        Assert.Equal(1, await CountAsync("keyed.png"));
        using var retry = await PostAsync(png, "keyed.png", key);
        Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        Assert.Equal("true", retry.Headers.GetValues("Idempotent-Replayed").Single());
        var body = await retry.Content.ReadFromJsonAsync<JsonElement>();
        await using (var connection = new NpgsqlConnection(_database))
        {
            var stored = await connection.ExecuteScalarAsync<long>(
                "SELECT p.id FROM predictions p JOIN inputs i ON i.id = p.input_id WHERE i.filename = 'keyed.png'");
            Assert.Equal(stored, body.GetProperty("prediction_id").GetInt64());
        }

        Assert.Equal($"/prediction/{body.GetProperty("prediction_id").GetInt64()}", retry.Headers.Location?.OriginalString);
        Assert.Equal(1, await CountAsync("keyed.png"));

        // The same key with another image is a different request.
        using var other = await PostAsync(Mnist.Png(1), "keyed.png", key);
        await ProblemAssert.AssertProblemAsync(other, HttpStatusCode.UnprocessableEntity, "new key");
        Assert.Equal(1, await CountAsync("keyed.png"));
    }

    [Fact]
    public async Task ConcurrentUploadsWithOneKeyStoreOnceAndAllGetTheSameAnswer()
    {
        var key = Guid.NewGuid().ToString();
        var png = Mnist.Png(3);
        var responses = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => PostAsync(png, "same-key.png", key)));

        var ids = new List<long>();
        foreach (var response in responses)
        {
            using (response)
            {
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                ids.Add((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("prediction_id").GetInt64());
            }
        }

        Assert.Single(ids.Distinct());
        Assert.Equal(1, await CountAsync("same-key.png"));
    }

    [Fact]
    public async Task AnUnreachableDatabaseIsNothingStoredAndSaysSo()
    {
        _proxy.Refuse = true;
        // Idle pooled connections were opened before; a new one is what cannot be had.
        _factory.Services.GetRequiredService<NpgsqlDataSource>().Clear();
        try
        {
            using var response = await PostAsync(Mnist.Png(4), "unreachable.png");
            await ProblemAssert.AssertProblemAsync(response, HttpStatusCode.ServiceUnavailable, "nothing was stored");
        }
        finally
        {
            _proxy.Refuse = false;
        }

        Assert.Equal(0, await CountAsync("unreachable.png"));
    }
}
