using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Dapper;
using Npgsql;
using PredictionApi.Tests.ObjectStorage;

namespace PredictionApi.Tests.Predictions;

/// <summary>The service with small batch limits (5 files, 4 KiB per file, 64 KiB per request) on its own database.</summary>
public sealed class BatchFixture : IAsyncLifetime
{
    public const int MaxFiles = 5;
    public const int MaxFileBytes = 4096;
    public const int MaxTotalBytes = 64 * 1024;

    public PredictionApiFactory Factory { get; private set; } = null!;

    public string ConnectionString { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        ConnectionString = await TestPostgres.CreateDatabaseAsync("batch");
        Factory = new PredictionApiFactory(ConnectionString, new Dictionary<string, string?>
        {
            ["Batch:MaxFiles"] = MaxFiles.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Batch:MaxTotalBytes"] = MaxTotalBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Upload:MaxBytes"] = MaxFileBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        _ = Factory.Server;
    }

    public async Task DisposeAsync()
    {
        await Factory.DisposeAsync();
        await TestPostgres.DropDatabaseAsync(ConnectionString);
    }

    public async Task<long> CountAsync(string table)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        return await connection.ExecuteScalarAsync<long>($"SELECT count(*) FROM {table}");
    }
}

/// <summary>POST /predictions/batch: per-file results and errors, limits, Idempotency-Key.</summary>
public sealed class BatchTests(BatchFixture fixture) : IClassFixture<BatchFixture>
{
    private readonly HttpClient _client = fixture.Factory.CreateClient();

    private static MultipartFormDataContent Form(params (string Name, byte[] Bytes)[] files)
    {
        var form = new MultipartFormDataContent();
        foreach (var (name, bytes) in files)
        {
            var part = new ByteArrayContent(bytes);
            part.Headers.ContentType = MediaTypeHeaderValue.Parse("application/octet-stream");
            form.Add(part, "file", name);
        }

        return form;
    }

    private static HttpRequestMessage Request(MultipartFormDataContent form, string? key = null, string query = "") =>
        ApiClient.UploadRequest("/predictions/batch" + query, form, key);

    /// <summary>Gray noise: PNG cannot compress it, so the file is about width x height bytes.</summary>
    private static byte[] NoisePng(int size)
    {
        var pixels = new byte[size * size];
        new Random(size).NextBytes(pixels);
        return TestImages.PngGray8(size, size, pixels);
    }

    [Fact]
    public async Task EachFileGetsItsResultOrItsErrorInRequestOrderAndOnlyGoodFilesAreStored()
    {
        var before = await fixture.CountAsync("predictions");
        var big = NoisePng(80);
        Assert.True(big.Length > BatchFixture.MaxFileBytes);
        using var response = await _client.SendAsync(Request(Form(
            ("zero.png", Mnist.Png(3)), ("notes.txt", Encoding.UTF8.GetBytes("not an image")), ("one.png", Mnist.Png(2)),
            ("empty.png", []), ("big.png", big))));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var items = (await response.Content.ReadFromJsonAsync<JsonElement>()).EnumerateArray().ToArray();
        Assert.Equal(["zero.png", "notes.txt", "one.png", "empty.png", "big.png"], items.Select(i => i.GetProperty("filename").GetString()));
        Assert.Equal([0, 415, 0, 400, 413], items.Select(i => i.TryGetProperty("error", out var e) ? e.GetProperty("status").GetInt32() : 0));
        Assert.Contains("not an image", items[1].GetProperty("error").GetProperty("detail").GetString(), StringComparison.OrdinalIgnoreCase);
        Assert.Equal("Empty file", items[3].GetProperty("error").GetProperty("title").GetString());
        Assert.False(items[1].TryGetProperty("prediction_id", out _));

        foreach (var (item, digit) in new[] { (items[0], 3), (items[2], 2) })
        {
            // The same answer POST /prediction gives for the same file, stored under its own ids.
            Assert.Equal(Mnist.Labels[digit], item.GetProperty("likely_class").GetInt32());
            Assert.Equal(5, item.GetProperty("labels").GetArrayLength());
            Assert.Equal(item.GetProperty("likely_class").GetInt32().ToString(System.Globalization.CultureInfo.InvariantCulture),
                item.GetProperty("labels")[0].GetProperty("name").GetString());
            Assert.Equal("mnist", item.GetProperty("model").GetProperty("name").GetString());
            var singleBody = await _client.PostPredictionAsync(Mnist.Png(digit));
            Assert.Equal(singleBody.GetProperty("prediction").ToString(), item.GetProperty("prediction").ToString());

            var stored = await _client.GetFromJsonAsync<JsonElement>($"/prediction/{item.GetProperty("prediction_id").GetInt64()}");
            Assert.Equal(item.GetProperty("filename").GetString(), stored.GetProperty("filename").GetString());
            Assert.Equal("data:image/png;base64," + Convert.ToBase64String(Mnist.Png(digit)), stored.GetProperty("image").GetString());
        }

        // Two from the batch, two from the single POSTs.
        Assert.Equal(before + 4, await fixture.CountAsync("predictions"));
    }

    [Fact]
    public async Task MoreFilesThanTheLimitIs413AndNothingIsStored()
    {
        var before = await fixture.CountAsync("predictions");
        var files = Enumerable.Range(0, BatchFixture.MaxFiles + 1).Select(i => ($"{i}.png", Mnist.Png(i))).ToArray();
        using var response = await _client.SendAsync(Request(Form(files)));
        await ProblemAssert.AssertProblemAsync(response, HttpStatusCode.RequestEntityTooLarge, $"at most {BatchFixture.MaxFiles} files");
        Assert.Equal(before, await fixture.CountAsync("predictions"));
    }

    [Fact]
    public async Task ARequestLargerThanTheTotalLimitIs413AndNothingIsStored()
    {
        var before = await fixture.CountAsync("predictions");
        // Three files under the per-file limit and one far over it: together over 64 KiB.
        using var response = await _client.SendAsync(Request(Form(("a.png", Mnist.Png(0)), ("b.png", Mnist.Png(1)), ("c.png", Mnist.Png(2)), ("huge.png", NoisePng(300)))));
        await ProblemAssert.AssertProblemAsync(response, HttpStatusCode.RequestEntityTooLarge, "65536 bytes");
        Assert.Equal(before, await fixture.CountAsync("predictions"));
    }

    [Fact]
    public async Task ABatchWithoutFileFieldsIs400AndABodyThatIsNotMultipartIs415()
    {
        var form = new MultipartFormDataContent { { new ByteArrayContent(Mnist.Png(0)), "image", "a.png" } };
        await ProblemAssert.AssertProblemAsync(await _client.PostAsync("/predictions/batch", form), HttpStatusCode.BadRequest, "'image'");
        await ProblemAssert.AssertProblemAsync(await _client.PostAsync("/predictions/batch", new ByteArrayContent(Mnist.Png(0))), HttpStatusCode.UnsupportedMediaType, "multipart/form-data");
    }

    [Theory]
    [InlineData("?max_labels=2", 2)]
    [InlineData("?max_labels=10&min_confidence=0", 10)]
    public async Task MaxLabelsShapesTheLabelsOfEveryResult(string query, int labels)
    {
        using var response = await _client.SendAsync(Request(Form(("a.png", Mnist.Png(8)), ("b.png", Mnist.Png(9))), query: query));
        var items = (await response.Content.ReadFromJsonAsync<JsonElement>()).EnumerateArray().ToArray();
        Assert.All(items, i => Assert.Equal(labels, i.GetProperty("labels").GetArrayLength()));
    }

    [Theory]
    [InlineData("?max_labels=0", "max_labels")]
    [InlineData("?min_confidence=2", "min_confidence")]
    public async Task BadLabelParametersAre400(string query, string detail)
    {
        using var response = await _client.SendAsync(Request(Form(("a.png", Mnist.Png(8))), query: query));
        await ProblemAssert.AssertProblemAsync(response, HttpStatusCode.BadRequest, detail);
    }

    [Fact]
    public async Task ARetryWithTheSameIdempotencyKeyReplaysTheAnswerWithoutStoringAgain()
    {
        var key = Guid.NewGuid().ToString();
        var files = new[] { ("a.png", UniqueImages.Png()), ("b.txt", Encoding.UTF8.GetBytes("text")), ("c.png", UniqueImages.Png()) };
        using var first = await _client.SendAsync(Request(Form(files), key));
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.False(first.Headers.Contains("Idempotent-Replayed"));
        var count = await fixture.CountAsync("predictions");

        using var retry = await _client.SendAsync(Request(Form(files), key));
        Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        Assert.Equal("true", retry.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(await first.Content.ReadAsStringAsync(), await retry.Content.ReadAsStringAsync());
        Assert.Equal(count, await fixture.CountAsync("predictions"));
    }

    [Fact]
    public async Task ARetryAfterOneOfTheBatchsPredictionsWasDeletedIs409AndStoresNothing()
    {
        var key = Guid.NewGuid().ToString();
        var files = new[] { ("a.png", UniqueImages.Png()), ("b.png", UniqueImages.Png()) };
        using var first = await _client.SendAsync(Request(Form(files), key));
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var ids = (await first.Content.ReadFromJsonAsync<JsonElement>()).EnumerateArray().Select(i => i.GetProperty("prediction_id").GetInt64()).ToArray();
        using var deleted = await _client.DeleteAsync($"/prediction/{ids[1]}");
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        var count = await fixture.CountAsync("predictions");

        // The replay used to answer 200 with the deleted id, as if it were stored.
        using var retry = await _client.SendAsync(Request(Form(files), key));

        var problem = await ProblemAssert.AssertProblemAsync(retry, HttpStatusCode.Conflict, "new Idempotency-Key");
        Assert.Contains($"prediction {ids[1]} has been deleted", problem.GetProperty("detail").GetString());
        Assert.False(retry.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal(count, await fixture.CountAsync("predictions"));
    }

    [Fact]
    public async Task TheSameIdempotencyKeyWithOtherFilesIs422()
    {
        var key = Guid.NewGuid().ToString();
        using var first = await _client.SendAsync(Request(Form(("a.png", UniqueImages.Png())), key));
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var count = await fixture.CountAsync("predictions");

        using var other = await _client.SendAsync(Request(Form(("a.png", UniqueImages.Png())), key));
        await ProblemAssert.AssertProblemAsync(other, HttpStatusCode.UnprocessableEntity, "new key");
        using var otherParameters = await _client.SendAsync(Request(Form(("a.png", UniqueImages.Png())), key, "?max_labels=1"));
        await ProblemAssert.AssertProblemAsync(otherParameters, HttpStatusCode.UnprocessableEntity);
        Assert.Equal(count, await fixture.CountAsync("predictions"));
    }

    [Fact]
    public async Task ConcurrentRequestsWithOneIdempotencyKeyStoreTheBatchOnceAndGetTheSameAnswer()
    {
        var key = Guid.NewGuid().ToString();
        var files = Enumerable.Range(0, 3).Select(i => ($"{i}.png", UniqueImages.Png())).ToArray();
        var before = await fixture.CountAsync("predictions");

        var responses = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => _client.SendAsync(Request(Form(files), key))));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        var bodies = await Task.WhenAll(responses.Select(r => r.Content.ReadAsStringAsync()));
        Assert.Single(bodies.Distinct());
        Assert.Equal(before + 3, await fixture.CountAsync("predictions"));
        Assert.Equal(3, responses.Count(r => r.Headers.Contains("Idempotent-Replayed")));
    }

    [Fact]
    public async Task TheOpenApiDocumentDescribesBatchesAndDeletes()
    {
        var paths = (await _client.GetFromJsonAsync<JsonElement>("/openapi/v1.json")).GetProperty("paths");
        var batch = paths.GetProperty("/predictions/batch").GetProperty("post");
        Assert.True(batch.GetProperty("requestBody").GetProperty("content").TryGetProperty("multipart/form-data", out _));
        Assert.Contains("Idempotency-Key", batch.GetProperty("description").GetString());
        Assert.True(batch.GetProperty("responses").TryGetProperty("413", out _));
        Assert.True(paths.GetProperty("/prediction/{id}").TryGetProperty("delete", out _));
        var retention = paths.GetProperty("/predictions").GetProperty("delete");
        Assert.Equal(["before", "max_confidence"], retention.GetProperty("parameters").EnumerateArray().Select(p => p.GetProperty("name").GetString()));
    }

    [Fact]
    public async Task AnIdempotencyKeyLongerThan255CharactersIs400()
    {
        const int length = 256;
        using var request = new HttpRequestMessage(HttpMethod.Post, "/predictions/batch") { Content = Form(("a.png", Mnist.Png(0))) };
        request.Headers.TryAddWithoutValidation("Idempotency-Key", new string('k', length));
        using var response = await _client.SendAsync(request);
        await ProblemAssert.AssertProblemAsync(response, HttpStatusCode.BadRequest, "Idempotency-Key");
    }
}
