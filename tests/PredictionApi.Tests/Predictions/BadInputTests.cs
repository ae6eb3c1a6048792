using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Dapper;
using Npgsql;

namespace PredictionApi.Tests.Predictions;

/// <summary>
/// Every kind of bad upload gets a clear 4xx problem, stores nothing, and leaves the service serving.
/// The service runs with a small upload limit (4 KiB) so the limit is cheap to exceed.
/// </summary>
public sealed class BadInputTests : IAsyncLifetime
{
    private const int MaxBytes = 4096;
    private string _database = null!;
    private PredictionApiFactory _factory = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _database = await TestPostgres.CreateDatabaseAsync("bad");
        _factory = new PredictionApiFactory(_database, new Dictionary<string, string?> { ["Upload:MaxBytes"] = MaxBytes.ToString() });
        _client = _factory.CreateClient();
    }

    public async Task DisposeAsync()
    {
        await _factory.DisposeAsync();
        await TestPostgres.DropDatabaseAsync(_database);
    }

    public static TheoryData<string, byte[], HttpStatusCode, string> BadFiles()
    {
        var png = Mnist.Png(0);
        return new()
        {
            { "empty file", [], HttpStatusCode.BadRequest, "empty" },
            { "text file named .png", Encoding.UTF8.GetBytes("hello, I am not a picture"), HttpStatusCode.UnsupportedMediaType, "not an image" },
            { "PDF", Encoding.ASCII.GetBytes("%PDF-1.7\n%\u00e2\u00e3\n1 0 obj << >> endobj\n"), HttpStatusCode.UnsupportedMediaType, "not an image" },
            { "PNG signature only", png[..8], HttpStatusCode.BadRequest, "truncated" },
            { "PNG cut in the middle of its data", png[..(png.Length / 2)], HttpStatusCode.BadRequest, "PNG" },
            { "PNG with garbage pixel data", [.. png[..33], .. Enumerable.Repeat((byte)0x5A, 200)], HttpStatusCode.BadRequest, "PNG" },
            { "PNG declaring 100000 x 100000 pixels", TestImages.PngHeaderOnly(100_000, 100_000), HttpStatusCode.BadRequest, "megapixels" },
            { "GIF declaring 65535 x 65535 pixels", [.. "GIF89a"u8.ToArray(), 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0], HttpStatusCode.BadRequest, "megapixels" },
            { "JPEG marker then nothing", [0xFF, 0xD8, 0xFF, 0xE0, 0, 16], HttpStatusCode.BadRequest, "JPEG" },
            { "file over the upload limit", TestImages.PngGray8(64, 64, RandomPixels(64 * 64)), HttpStatusCode.RequestEntityTooLarge, "4096 bytes" },
        };
    }

    [Theory]
    [MemberData(nameof(BadFiles))]
    public async Task ABadFileIsRefusedWithAProblemAndNothingIsStored(string what, byte[] bytes, HttpStatusCode status, string detail)
    {
        var marker = $"bad-{Guid.NewGuid():N}.png";
        using var response = await _client.PostAsync("/prediction", TestImages.Form(bytes, marker));

        await ProblemAssert.AssertProblemAsync(response, status, detail);
        Assert.Equal(0, await CountInputsAsync(marker));
        await AssertStillServingAsync(what);
    }

    [Fact]
    public async Task AMissingFileFieldIsABadRequestThatNamesTheField()
    {
        using var form = new MultipartFormDataContent { { new StringContent("7"), "label" }, { new ByteArrayContent(Mnist.Png(0)), "image", "digit.png" } };
        using var response = await _client.PostAsync("/prediction", form);
        var problem = await ProblemAssert.AssertProblemAsync(response, HttpStatusCode.BadRequest, "'file'");
        Assert.Contains("'image'", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task TwoFilesInOneRequestAreABadRequest()
    {
        using var form = new MultipartFormDataContent
        {
            { new ByteArrayContent(Mnist.Png(0)), "file", "a.png" },
            { new ByteArrayContent(Mnist.Png(1)), "file", "b.png" },
        };
        using var response = await _client.PostAsync("/prediction", form);
        await ProblemAssert.AssertProblemAsync(response, HttpStatusCode.BadRequest, "exactly one");
    }

    [Theory]
    [InlineData("application/json", "{\"file\": \"iVBORw0KGgo=\"}")]
    [InlineData("image/png", "not really a png")]
    [InlineData("text/plain", "hello")]
    public async Task ABodyThatIsNotMultipartIsUnsupportedMediaType(string contentType, string body)
    {
        using var content = new StringContent(body, Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        using var response = await _client.PostAsync("/prediction", content);
        var problem = await ProblemAssert.AssertProblemAsync(response, HttpStatusCode.UnsupportedMediaType, "multipart/form-data");
        // The answer names what was sent and how to send an image instead.
        Assert.Contains(contentType, problem.GetProperty("detail").GetString());
        Assert.Contains("'file'", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task MalformedMultipartIsABadRequest()
    {
        using var content = new StringContent("--xyz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n\r\nabc", Encoding.ASCII);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse("multipart/form-data; boundary=xyz");
        using var response = await _client.PostAsync("/prediction", content);
        await ProblemAssert.AssertProblemAsync(response, HttpStatusCode.BadRequest, "multipart");
    }

    [Theory]
    [InlineData("GET", "/prediction")]
    [InlineData("PUT", "/prediction")]
    [InlineData("PUT", "/predictions")]
    [InlineData("POST", "/prediction/1")]
    [InlineData("POST", "/health/live")]
    public async Task AWrongMethodIs405WithAnAllowHeader(string method, string path)
    {
        using var response = await _client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));
        await ProblemAssert.AssertProblemAsync(response, HttpStatusCode.MethodNotAllowed, method);
        Assert.NotEmpty(response.Content.Headers.Allow);
    }

    [Theory]
    [InlineData("/nothing-here")]
    [InlineData("/prediction/1/thumbnail")]
    [InlineData("/models/mnist/extra")]
    public async Task AnUnknownRouteIs404ProblemJson(string path)
    {
        using var response = await _client.GetAsync(path);
        await ProblemAssert.AssertProblemAsync(response, HttpStatusCode.NotFound, path);
    }

    [Fact]
    public async Task AnUploadOverTheLimitIsRefusedByRealKestrelToo()
    {
        var database = await TestPostgres.CreateDatabaseAsync("kestrel");
        await using var factory = new PredictionApiFactory(database, new Dictionary<string, string?> { ["Upload:MaxBytes"] = MaxBytes.ToString() });
        using var client = new HttpClient { BaseAddress = factory.StartKestrel() };
        var big = TestImages.PngGray8(256, 256, RandomPixels(256 * 256));

        // With Content-Length, and streamed (chunked) so only Kestrel's body limit can stop it.
        using var sized = await client.PostAsync("/prediction", TestImages.Form(big));
        await ProblemAssert.AssertProblemAsync(sized, HttpStatusCode.RequestEntityTooLarge);
        var chunked = TestImages.Form(big);
        chunked.Headers.ContentLength = null;
        using var request = new HttpRequestMessage(HttpMethod.Post, "/prediction") { Content = new ChunkedContent(chunked) };
        using var streamed = await client.SendAsync(request);
        await ProblemAssert.AssertProblemAsync(streamed, HttpStatusCode.RequestEntityTooLarge);

        using var good = await client.PostAsync("/prediction", TestImages.Form(Mnist.Png(0)));
        Assert.Equal(HttpStatusCode.OK, good.StatusCode);
        await TestPostgres.DropDatabaseAsync(database);
    }

    private async Task AssertStillServingAsync(string after)
    {
        using var response = await _client.PostAsync("/prediction", TestImages.Form(Mnist.Png(7)));
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"the service should still serve after {after}: {(int)response.StatusCode}");
        var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("prediction_id").GetInt64();
        Assert.True(id > 0);
    }

    private async Task<long> CountInputsAsync(string filename)
    {
        await using var connection = new NpgsqlConnection(_database);
        return await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM inputs WHERE filename = @filename", new { filename });
    }

    private static byte[] RandomPixels(int n)
    {
        var pixels = new byte[n];
        new Random(3).NextBytes(pixels);
        return pixels;
    }

    /// <summary>Sends wrapped content without a length, so the client uses chunked transfer encoding.</summary>
    private sealed class ChunkedContent : HttpContent
    {
        private readonly HttpContent _inner;

        public ChunkedContent(HttpContent inner)
        {
            _inner = inner;
            foreach (var header in inner.Headers)
            {
                Headers.TryAddWithoutValidation(header.Key, header.Value);
            }

            Headers.ContentLength = null;
        }

        protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context) => _inner.CopyToAsync(stream);

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
