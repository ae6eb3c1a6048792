using System.Net;
using System.Text.Json;
using Npgsql;
using PredictionApi.Tests.ObjectStorage;

namespace PredictionApi.Tests.Predictions;

/// <summary>
/// One Idempotency-Key sent by several requests at the same moment, over real HTTP connections: the first to commit
/// stores its rows and every other one waits for it and replays its answer (or, with other files, gets the 422), so
/// a key never stores twice however the requests interleave.
/// </summary>
public sealed class ConcurrentIdempotencyTests : IAsyncLifetime
{
    private ConfiguredService _service = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _service = await ConfiguredService.CreateAsync("concurrentkeys", new Dictionary<string, string?>());
        _client = new HttpClient { BaseAddress = _service.Factory.StartKestrel(), Timeout = TimeSpan.FromSeconds(10) };
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _service.DisposeAsync();
    }

    private static HttpRequestMessage Request(string path, string key, params byte[][] images) =>
        ApiClient.UploadRequest(path, TestImages.Form(images.Select((png, i) => ($"{i}.png", png)).ToArray()), key);

    private async Task<long> CountAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_service.Database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private Task<long> StoredRowsAsync() => CountAsync("SELECT (SELECT count(*) FROM predictions) + (SELECT count(*) FROM inputs)");

    [Theory]
    [InlineData("/prediction", 1)]
    [InlineData("/predictions/batch", 3)]
    public async Task EightRequestsAtOnceWithOneKeyStoreOnceAndTheOtherSevenReplayTheSameAnswer(string path, int files)
    {
        // Several rounds: which request claims the key first, and where the others are then, differs from round to round.
        for (var round = 0; round < 5; round++)
        {
            var key = Guid.NewGuid().ToString();
            var images = Enumerable.Range(0, files).Select(_ => UniqueImages.Png()).ToArray();
            var before = await StoredRowsAsync();

            var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => _client.SendAsync(Request(path, key, images))));

            var bodies = await Task.WhenAll(responses.Select(r => r.Content.ReadAsStringAsync()));
            for (var i = 0; i < responses.Length; i++)
            {
                Assert.True(responses[i].StatusCode == HttpStatusCode.OK, $"round {round}: {(int)responses[i].StatusCode} {bodies[i]}");
            }

            Assert.Single(bodies.Distinct());
            Assert.Equal(7, responses.Count(r => r.Headers.TryGetValues("Idempotent-Replayed", out var v) && v.Single() == "true"));
            Assert.Equal(before + 2 * files, await StoredRowsAsync());
            // The one answer names rows that exist.
            var answer = JsonDocument.Parse(bodies[0]).RootElement;
            var ids = (answer.ValueKind == JsonValueKind.Array ? answer.EnumerateArray().ToArray() : [answer]).Select(a => a.GetProperty("prediction_id").GetInt64());
            Assert.Equal(files, await CountAsync($"SELECT count(*) FROM predictions WHERE id IN ({string.Join(",", ids)})"));
        }
    }

    [Theory]
    [InlineData("/prediction")]
    [InlineData("/predictions/batch")]
    public async Task TwoRequestsAtOnceWithOneKeyAndOtherFilesStoreOneAndTheOtherIs422(string path)
    {
        for (var round = 0; round < 5; round++)
        {
            var key = Guid.NewGuid().ToString();
            var before = await StoredRowsAsync();

            var responses = await Task.WhenAll(_client.SendAsync(Request(path, key, UniqueImages.Png())), _client.SendAsync(Request(path, key, UniqueImages.Png())));

            var ok = Assert.Single(responses, r => r.StatusCode == HttpStatusCode.OK);
            var refused = Assert.Single(responses, r => r != ok);
            await ProblemAssert.AssertProblemAsync(refused, HttpStatusCode.UnprocessableEntity, "other files or parameters");
            Assert.False(ok.Headers.Contains("Idempotent-Replayed"));
            Assert.Equal(before + 2, await StoredRowsAsync());
        }
    }
}
