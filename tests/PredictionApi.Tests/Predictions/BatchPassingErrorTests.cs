using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using PredictionApi.Imaging;

namespace PredictionApi.Tests.Predictions;

/// <summary>
/// A batch one of whose files is refused for a passing reason (no decoding room within Imaging:DecodeWaitSeconds):
/// without an Idempotency-Key that file gets its own 503 and the others are stored; with a key, whose answer every retry
/// would replay, the whole batch is a 503 with nothing stored, and the retry with the same key classifies every file.
/// The room is taken by the test itself, holding the whole decoding budget of the in-memory service.
/// </summary>
public sealed class BatchPassingErrorTests : IAsyncLifetime
{
    private ConfiguredService _service = null!;

    public async Task InitializeAsync()
    {
        _service = await ConfiguredService.CreateAsync("passing", new Dictionary<string, string?>
        {
            ["Imaging:MaxDecodingPixels"] = "1000000",
            ["Imaging:DecodeWaitSeconds"] = "1",
        });
    }

    public async Task DisposeAsync() => await _service.DisposeAsync();

    [Fact]
    public async Task AFileRefusedForAPassingReasonRefusesAKeyedBatchWholeAndTheRetryClassifiesEveryFile()
    {
        using var client = _service.Factory.CreateClient();
        var budget = _service.Factory.Services.GetRequiredService<ImagePreprocessor>().Budget;

        var held = budget.Acquire(budget.Capacity);
        try
        {
            // Without a key: the large file waits for room in vain and gets its own 503; the digit is stored.
            using (var unkeyed = await client.SendAsync(Batch(key: null)))
            {
                Assert.Equal(HttpStatusCode.OK, unkeyed.StatusCode);
                var items = (await unkeyed.Content.ReadFromJsonAsync<JsonElement>()).EnumerateArray().ToArray();
                Assert.True(items[0].TryGetProperty("prediction_id", out _), items[0].ToString());
                Assert.Equal(503, items[1].GetProperty("error").GetProperty("status").GetInt32());
            }

            using var refused = await client.SendAsync(Batch(key: "passing-1"));
            var problem = await ProblemAssert.AssertProblemAsync(refused, HttpStatusCode.ServiceUnavailable, "Nothing of this batch was stored");
            Assert.Equal("Busy decoding", problem.GetProperty("title").GetString());
            Assert.True(refused.Headers.RetryAfter is not null, "a 503 says when to retry");
        }
        finally
        {
            budget.Release(held);
        }

        Assert.Equal(1L, await CountAsync("SELECT count(*) FROM predictions"));
        Assert.Equal(0L, await CountAsync("SELECT count(*) FROM idempotency_keys"));

        using var retry = await client.SendAsync(Batch(key: "passing-1"));
        Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        Assert.False(retry.Headers.Contains("Idempotent-Replayed"));
        Assert.All((await retry.Content.ReadFromJsonAsync<JsonElement>()).EnumerateArray(), item => Assert.True(item.TryGetProperty("prediction_id", out _), item.ToString()));
        Assert.Equal(3L, await CountAsync("SELECT count(*) FROM predictions"));
    }

    /// <summary>A digit (small: decoded beside anything) and a 1000x100 image (large: it needs room in the large share).</summary>
    private static HttpRequestMessage Batch(string? key) => ApiClient.UploadRequest("/predictions/batch",
        TestImages.Form(("digit.png", Mnist.Png(3)), ("wide.png", TestImages.PngGray8(1000, 100, new byte[100_000]))), key);

    private async Task<long> CountAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_service.Database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
