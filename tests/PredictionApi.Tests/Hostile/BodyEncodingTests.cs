using System.IO.Compression;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using PredictionApi.Tests.OpenInference;

namespace PredictionApi.Tests.Hostile;

/// <summary>
/// Bodies that are fine but sent in a form the service does not read as such: compressed with a Content-Encoding, JSON in
/// another charset than UTF-8, or a JSON Patch instead of a merge patch (each refused with a 415 that names what to change,
/// instead of being called malformed), or JSON led by a byte order mark (read).
/// </summary>
public sealed class BodyEncodingTests(HostileService service) : IClassFixture<HostileService>
{
    private static byte[] Gzip(byte[] bytes)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest))
        {
            gzip.Write(bytes);
        }

        return output.ToArray();
    }

    private static async Task<HttpRequestMessage> CompressedAsync(HttpMethod method, string path, HttpContent plain, string coding)
    {
        var content = new ByteArrayContent(Gzip(await plain.ReadAsByteArrayAsync()));
        content.Headers.ContentType = plain.Headers.ContentType;
        content.Headers.ContentEncoding.Add(coding);
        return new HttpRequestMessage(method, path) { Content = content };
    }

    [Theory]
    [InlineData("/prediction", "gzip")]
    [InlineData("/predictions/batch", "gzip")]
    [InlineData("/prediction", "br")]
    public async Task ACompressedUploadIs415NamingTheCodingAndStoresNothing(string path, string coding)
    {
        var before = await service.CountRowsAsync();
        using var request = await CompressedAsync(HttpMethod.Post, path, TestImages.Form(Mnist.Png(0), "digit.png", "image/png"), coding);
        using var response = await service.Client.SendAsync(request);

        var problem = await HostileAssert.ProblemAsync(response, 4, $"a {coding} upload to {path}");
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Contains($"Content-Encoding '{coding}'", problem.GetProperty("detail").GetString());
        Assert.Contains("uncompressed", problem.GetProperty("detail").GetString());
        Assert.Equal("identity", Assert.Single(response.Headers.GetValues("Accept-Encoding")));
        Assert.Equal(before, await service.CountRowsAsync());
        await service.AssertStillServingAsync($"a {coding} upload");
    }

    [Fact]
    public async Task ACompressedLabelChangeIs415AndChangesNothing()
    {
        var id = await PostAsync();
        using var request = await CompressedAsync(HttpMethod.Patch, $"/prediction/{id}", JsonContent.Create(new { true_label = "3" }), "gzip");
        using var response = await service.Client.SendAsync(request);

        var problem = await HostileAssert.ProblemAsync(response, 4, "a gzip PATCH");
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Contains("Content-Encoding 'gzip'", problem.GetProperty("detail").GetString());
        var stored = await service.Client.GetFromJsonAsync<JsonElement>($"/prediction/{id}");
        Assert.Equal(JsonValueKind.Null, stored.GetProperty("true_label").ValueKind);
    }

    [Fact]
    public async Task ACompressedInferenceIs415InTheProtocolsShape()
    {
        var before = await service.CountRowsAsync();
        var json = JsonSerializer.Serialize(new { inputs = new[] { new { name = "input", shape = new[] { 1 }, datatype = "BYTES", data = new[] { Convert.ToBase64String(Mnist.Png(0)) } } } });
        using var request = await CompressedAsync(HttpMethod.Post, "/v2/models/mnist/infer", new StringContent(json, Encoding.UTF8, "application/json"), "gzip");
        using var response = await service.Client.SendAsync(request);

        await V2Assert.ErrorAsync(response, HttpStatusCode.UnsupportedMediaType, "Content-Encoding 'gzip'");
        Assert.Equal(before, await service.CountRowsAsync());
    }

    [Fact]
    public async Task IdentityIsNoCodingAndABodylessReadIgnoresTheHeader()
    {
        using var form = TestImages.Form(Mnist.Png(0), "digit.png", "image/png");
        form.Headers.ContentEncoding.Add("identity");
        using (var upload = await service.Client.PostAsync("/prediction", form))
        {
            Assert.Equal(HttpStatusCode.OK, upload.StatusCode);
        }

        using var read = new HttpRequestMessage(HttpMethod.Get, "/predictions?limit=1");
        read.Headers.TryAddWithoutValidation("Content-Encoding", "gzip");
        using var response = await service.Client.SendAsync(read);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task ALabelChangeLedByAUtf8ByteOrderMarkIsReadAsTheV2ReaderReadsIt()
    {
        // What Windows PowerShell's Out-File -Encoding utf8 and Notepad write, then curl -d @file sends.
        var id = await PostAsync();
        using var content = new ByteArrayContent([0xEF, 0xBB, 0xBF, .. """{"true_label": "7", "note": "saved by Notepad"}"""u8.ToArray()]);
        content.Headers.ContentType = new("application/json");
        using var response = await service.Client.PatchAsync($"/prediction/{id}", content);

        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode} {text}");
        var stored = await service.Client.GetFromJsonAsync<JsonElement>($"/prediction/{id}");
        Assert.Equal("7", stored.GetProperty("true_label").GetString());
        Assert.Equal("saved by Notepad", stored.GetProperty("note").GetString());
    }

    [Theory]
    [InlineData("iso-8859-1")]
    [InlineData("utf-16")]
    [InlineData("\"windows-1252\"")]
    public async Task ALabelChangeDeclaringACharsetOtherThanUtf8Is415SayingToSendUtf8(string charset)
    {
        var id = await PostAsync();
        var encoding = charset == "utf-16" ? Encoding.Unicode : Encoding.Latin1;
        using var content = new ByteArrayContent(encoding.GetBytes("""{"true_label": "3", "note": "café"}"""));
        content.Headers.TryAddWithoutValidation("Content-Type", $"application/json; charset={charset}");
        using var response = await service.Client.PatchAsync($"/prediction/{id}", content);

        var problem = await HostileAssert.ProblemAsync(response, 4, $"a PATCH in {charset}");
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Contains($"charset={charset.Trim('"')}", problem.GetProperty("detail").GetString());
        Assert.Contains("UTF-8", problem.GetProperty("detail").GetString());
        var stored = await service.Client.GetFromJsonAsync<JsonElement>($"/prediction/{id}");
        Assert.Equal(JsonValueKind.Null, stored.GetProperty("true_label").ValueKind);
    }

    [Fact]
    public async Task Latin1BytesWithoutACharsetAreRefusedSayingToSendUtf8()
    {
        // Windows PowerShell 5's Invoke-RestMethod sends a string body as ISO-8859-1 and declares no charset.
        var id = await PostAsync();
        using var content = new ByteArrayContent(Encoding.Latin1.GetBytes("""{"note": "café"}"""));
        content.Headers.ContentType = new("application/json");
        using var response = await service.Client.PatchAsync($"/prediction/{id}", content);

        var problem = await HostileAssert.ProblemAsync(response, 4, "a Latin-1 PATCH");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("Send the body encoded as UTF-8", problem.GetProperty("detail").GetString());
    }

    [Theory]
    [InlineData("application/json; charset=utf-8")]
    [InlineData("application/json; charset=\"UTF-8\"")]
    [InlineData("application/json; charset=utf8")]
    [InlineData("application/json; charset=us-ascii")]
    public async Task AUtf8CharsetInAnySpellingIsAccepted(string contentType)
    {
        var id = await PostAsync();
        using var content = new ByteArrayContent(Encoding.UTF8.GetBytes("""{"note": "café"}"""));
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        using var response = await service.Client.PatchAsync($"/prediction/{id}", content);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("café", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("note").GetString());
    }

    [Fact]
    public async Task AnInferenceDeclaringUtf16Is415InTheProtocolsShapeAndStoresNothing()
    {
        var before = await service.CountRowsAsync();
        var json = JsonSerializer.Serialize(new { id = "utf16", inputs = new[] { new { name = "input", shape = new[] { 1 }, datatype = "BYTES", data = new[] { Convert.ToBase64String(Mnist.Png(0)) } } } });
        using var content = new ByteArrayContent(Encoding.Unicode.GetBytes(json));
        content.Headers.TryAddWithoutValidation("Content-Type", "application/json; charset=utf-16");
        using var response = await service.Client.PostAsync("/v2/models/mnist/infer", content);

        await V2Assert.ErrorAsync(response, HttpStatusCode.UnsupportedMediaType, "charset=utf-16, but JSON is read as UTF-8 only");
        Assert.Equal(before, await service.CountRowsAsync());
    }

    [Fact]
    public async Task AJsonPatchDocumentIs415AskingForAMergePatch()
    {
        // What .NET's JsonPatchDocument and fast-json-patch send (RFC 6902); it was refused as "a JSON array, not an object".
        var id = await PostAsync();
        using var content = new StringContent("""[{"op": "replace", "path": "/true_label", "value": "3"}]""", Encoding.UTF8);
        content.Headers.ContentType = new("application/json-patch+json");
        using var response = await service.Client.PatchAsync($"/prediction/{id}", content);

        var problem = await HostileAssert.ProblemAsync(response, 4, "a JSON Patch");
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Contains("JSON merge patch", problem.GetProperty("detail").GetString());
        var stored = await service.Client.GetFromJsonAsync<JsonElement>($"/prediction/{id}");
        Assert.Equal(JsonValueKind.Null, stored.GetProperty("true_label").ValueKind);
    }

    private async Task<long> PostAsync()
    {
        using var response = await service.PostFileAsync(Mnist.Png(0));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("prediction_id").GetInt64();
    }
}
