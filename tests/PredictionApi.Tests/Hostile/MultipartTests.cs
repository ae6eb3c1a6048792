using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace PredictionApi.Tests.Hostile;

/// <summary>
/// Multipart bodies no well-behaved client sends, written byte by byte on a socket to real Kestrel:
/// each gets a 4xx problem (or a 200 when it is odd but valid), nothing half-written, and the service
/// keeps serving. Also clients that lie about the length or vanish mid-upload.
/// </summary>
public sealed class MultipartTests(HostileService service) : IClassFixture<HostileService>
{
    private const string Boundary = "hostile-boundary";

    private static byte[] FilePart(string name = "file", string fileName = "a.png") =>
        Encoding.ASCII.GetBytes($"Content-Disposition: form-data; name=\"{name}\"; filename=\"{fileName}\"\r\nContent-Type: image/png");

    public static TheoryData<string, string, byte[], int, string> Bodies()
    {
        var png = Mnist.Png(0);
        var multipart = $"multipart/form-data; boundary={Boundary}";
        return new()
        {
            { "no boundary parameter", "multipart/form-data", RawHttp.Part(Boundary, FilePart(), png), 400, "multipart" },
            { "a boundary that is not in the body", "multipart/form-data; boundary=other", RawHttp.Part(Boundary, FilePart(), png), 400, "multipart" },
            { "an empty boundary", "multipart/form-data; boundary=\"\"", RawHttp.Part(Boundary, FilePart(), png), 400, "multipart" },
            { "a boundary of 300 characters", $"multipart/form-data; boundary={new string('q', 300)}", RawHttp.Part(new string('q', 300), FilePart(), png), 400, "multipart" },
            { "no closing boundary", multipart, RawHttp.Part(Boundary, FilePart(), png, close: false), 400, "multipart" },
            { "a part with headers and no content", multipart, RawHttp.Part(Boundary, FilePart(), []), 400, "empty" },
            { "a part without headers", multipart, [.. Encoding.ASCII.GetBytes($"--{Boundary}\r\n\r\n"), .. png, .. Encoding.ASCII.GetBytes($"\r\n--{Boundary}--\r\n")], 400, "'file'" },
            { "'file' as a text field (no filename)", multipart, RawHttp.Part(Boundary, "Content-Disposition: form-data; name=\"file\""u8.ToArray(), png), 400, "no filename" },
            { "a nested multipart/mixed part", multipart, RawHttp.Part(Boundary,
                "Content-Disposition: form-data; name=\"file\"\r\nContent-Type: multipart/mixed; boundary=inner"u8.ToArray(),
                RawHttp.Part("inner", FilePart(fileName: "nested.png"), png)), 400, "'file'" },
            { "17 headers on one part", multipart, RawHttp.Part(Boundary, [.. FilePart(), .. Encoding.ASCII.GetBytes(string.Concat(Enumerable.Range(0, 16).Select(i => $"\r\nX-H{i}: v")))], png), 400, "multipart" },
            { "a 20 KB part header", multipart, RawHttp.Part(Boundary, [.. FilePart(), .. Encoding.ASCII.GetBytes("\r\nX-Big: " + new string('v', 20_000))], png), 400, "multipart" },
            { "a disposition that is not form-data", multipart, RawHttp.Part(Boundary, "Content-Disposition: attachment; filename=\"a.png\""u8.ToArray(), png), 400, "'file'" },
            // What a browser form sends for a file input left empty: a file, empty, not "text in the field".
            { "an empty file input of a browser form", multipart, RawHttp.Part(Boundary, "Content-Disposition: form-data; name=\"file\"; filename=\"\"\r\nContent-Type: application/octet-stream"u8.ToArray(), []), 400, "empty (0 bytes)" },
        };
    }

    [Theory]
    [MemberData(nameof(Bodies))]
    public async Task AMalformedMultipartBodyIsAClientProblemAndStoresNothing(string what, string contentType, byte[] body, int status, string detail)
    {
        var before = await service.CountRowsAsync();
        using var response = await RawHttp.SendAsync(service.BaseAddress, RawHttp.Post("/prediction", contentType, body));

        var problem = await HostileAssert.ProblemAsync(response, 4, what);
        Assert.Equal(status, (int)response.StatusCode);
        Assert.Contains(detail, problem.GetProperty("detail").GetString(), StringComparison.OrdinalIgnoreCase);
        Assert.Equal(before, await service.CountRowsAsync());
        await service.AssertStillServingAsync(what);
    }

    [Theory]
    [MemberData(nameof(Bodies))]
    public async Task TheBatchEndpointRefusesAMalformedBodyAsASingleUploadDoesAndStoresNothing(string what, string contentType, byte[] body, int status, string detail)
    {
        var before = await service.CountRowsAsync();
        using var response = await RawHttp.SendAsync(service.BaseAddress, RawHttp.Post("/predictions/batch", contentType, body));

        // One reader serves both endpoints: the same status and words, except that a batch reports a bad
        // file (an empty one) in that file's own result.
        if (await HostileAssert.OkOrClientProblemAsync(response, what) == HttpStatusCode.OK)
        {
            var items = (await response.Content.ReadFromJsonAsync<JsonElement[]>())!;
            var error = Assert.Single(items).GetProperty("error");
            Assert.Equal(status, error.GetProperty("status").GetInt32());
            Assert.Contains(detail, error.GetProperty("detail").GetString(), StringComparison.OrdinalIgnoreCase);
        }
        else
        {
            var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal(status, (int)response.StatusCode);
            Assert.Contains(detail, problem.GetProperty("detail").GetString(), StringComparison.OrdinalIgnoreCase);
        }

        Assert.Equal(before, await service.CountRowsAsync());
    }

    public static TheoryData<string, string, byte[]> OddButValidBodies()
    {
        var png = Mnist.Png(0);
        return new()
        {
            { "2000 text fields before the file", $"multipart/form-data; boundary={Boundary}",
                [.. Enumerable.Range(0, 2000).SelectMany(i => Encoding.ASCII.GetBytes($"--{Boundary}\r\nContent-Disposition: form-data; name=\"f{i}\"\r\n\r\nx\r\n")),
                .. RawHttp.Part(Boundary, FilePart(), png)] },
            { "the field named FILE", $"multipart/form-data; boundary={Boundary}", RawHttp.Part(Boundary, FilePart(name: "FILE"), png) },
            { "a boundary of 200 characters", $"multipart/form-data; boundary={new string('b', 200)}", RawHttp.Part(new string('b', 200), FilePart(), png) },
            // Go's mime/multipart CreateFormFile("file", "").
            { "an empty filename", $"multipart/form-data; boundary={Boundary}", RawHttp.Part(Boundary, "Content-Disposition: form-data; name=\"file\"; filename=\"\"\r\nContent-Type: application/octet-stream"u8.ToArray(), png) },
        };
    }

    [Theory]
    [MemberData(nameof(OddButValidBodies))]
    public async Task BothUploadEndpointsAcceptAnOddButValidBodyAndStoreItsFileOnce(string what, string contentType, byte[] body)
    {
        var before = await service.CountRowsAsync();
        using (var single = await RawHttp.SendAsync(service.BaseAddress, RawHttp.Post("/prediction", contentType, body)))
        {
            Assert.True(single.StatusCode == HttpStatusCode.OK, $"{what}: POST /prediction answered {(int)single.StatusCode} {await single.Content.ReadAsStringAsync()}");
            Assert.Equal(7, (await single.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("likely_class").GetInt32());
        }

        using (var batch = await RawHttp.SendAsync(service.BaseAddress, RawHttp.Post("/predictions/batch", contentType, body)))
        {
            Assert.True(batch.StatusCode == HttpStatusCode.OK, $"{what}: POST /predictions/batch answered {(int)batch.StatusCode} {await batch.Content.ReadAsStringAsync()}");
            var item = Assert.Single((await batch.Content.ReadFromJsonAsync<JsonElement[]>())!);
            Assert.Equal(7, item.GetProperty("likely_class").GetInt32());
        }

        Assert.Equal((before.Inputs + 2, before.Predictions + 2), await service.CountRowsAsync());
    }

    [Fact]
    public async Task AFileWithAnEmptyFilenameIsStoredAsUpload()
    {
        var body = RawHttp.Part(Boundary, "Content-Disposition: form-data; name=\"file\"; filename=\"\"\r\nContent-Type: image/png"u8.ToArray(), Mnist.Png(0));
        using var response = await RawHttp.SendAsync(service.BaseAddress, RawHttp.Post("/prediction", $"multipart/form-data; boundary={Boundary}", body));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("prediction_id").GetInt64();
        var stored = await service.Client.GetFromJsonAsync<JsonElement>($"/prediction/{id}");
        Assert.Equal("upload", stored.GetProperty("filename").GetString());
    }

    [Fact]
    public async Task AFileFieldAfterOtherFieldsAndWithExtraPartHeadersIsStillRead()
    {
        var body = RawHttp.Part(Boundary, "Content-Disposition: form-data; name=\"note\""u8.ToArray(), "hello"u8.ToArray(), close: false)
            .Concat(RawHttp.Part(Boundary, [.. FilePart(fileName: "late.png"), .. "\r\nX-Extra: 1\r\nContent-Transfer-Encoding: binary"u8.ToArray()], Mnist.Png(0)))
            .ToArray();
        using var response = await RawHttp.SendAsync(service.BaseAddress, RawHttp.Post("/prediction", $"multipart/form-data; boundary=\"{Boundary}\"", body));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var result = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("late.png", result.GetProperty("filename").GetString());
        Assert.Equal(7, result.GetProperty("likely_class").GetInt32());
    }

    [Theory]
    [InlineData("/prediction")]
    [InlineData("/predictions/batch")]
    public async Task AContentLengthThatOverstatesTheBodyEndsInATimeoutProblemWithinSeconds(string path)
    {
        var before = await service.CountRowsAsync();
        var body = RawHttp.Part(Boundary, FilePart(fileName: "slow.png"), Mnist.Png(0));
        var started = DateTime.UtcNow;
        // The client promises 100 KB, sends far less, then waits: Kestrel's minimum data rate ends the wait.
        using var response = await RawHttp.SendAsync(service.BaseAddress,
            RawHttp.Post(path, $"multipart/form-data; boundary={Boundary}", body, contentLength: 100_000), TimeSpan.FromSeconds(30));

        await HostileAssert.ProblemAsync(response, 4, "a body shorter than its Content-Length");
        Assert.Equal(HttpStatusCode.RequestTimeout, response.StatusCode);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(20), "a stalled upload should be ended by the minimum data rate");
        Assert.Equal(before, await service.CountRowsAsync());
        await service.AssertStillServingAsync("a stalled upload");
    }

    [Theory]
    [InlineData("/prediction", 31_000_000)]
    [InlineData("/predictions/batch", 70_000_000)]
    public async Task ABodyDeclaredOverTheLimitIsA413EvenForAClientThatSendsItAllBeforeReading(string path, int size)
    {
        // Over Kestrel's own 30 MB limit too: the connection used to be reset while the client was still writing,
        // so fetch, axios and Python saw a broken pipe instead of the 413.
        var body = new byte[size];
        var part = RawHttp.Part(Boundary, FilePart(fileName: "huge.png"), Mnist.Png(0));
        part.CopyTo(body, 0);
        var before = await service.CountRowsAsync();
        using var response = await RawHttp.SendAsync(service.BaseAddress, RawHttp.Post(path, $"multipart/form-data; boundary={Boundary}", body));

        var problem = await HostileAssert.ProblemAsync(response, 4, "a body over the limit");
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("Payload too large", problem.GetProperty("title").GetString());
        Assert.Equal(before, await service.CountRowsAsync());
        await service.AssertStillServingAsync("a body over the limit");
    }

    [Fact]
    public async Task AChunkedBodyOverTheLimitIsA413ForAClientStillSendingIt()
    {
        // HttpClient sends a stream of unknown length chunked, and reads no answer until it has sent it all: Kestrel's own
        // body limit reset the connection under it, so it saw a broken pipe instead of the 413.
        var image = new byte[8_000_000];
        Mnist.Png(0).CopyTo(image, 0);
        using var form = new MultipartFormDataContent { { new UnknownLengthContent(image), "file", "huge.png" } };
        Assert.Null(form.Headers.ContentLength);
        var before = await service.CountRowsAsync();
        using var response = await service.Client.PostAsync("/prediction", form);

        var problem = await HostileAssert.ProblemAsync(response, 4, "a chunked body over the limit");
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("Payload too large", problem.GetProperty("title").GetString());
        Assert.Equal(before, await service.CountRowsAsync());
        await service.AssertStillServingAsync("a chunked body over the limit");
    }

    /// <summary>A body whose length is not known before it is sent, as a stream's is: HttpClient sends it chunked.</summary>
    private sealed class UnknownLengthContent(byte[] bytes) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context) => stream.WriteAsync(bytes).AsTask();

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }

    [Theory]
    [InlineData("image/png", null, "Unsupported Media Type")]
    [InlineData("multipart/form-data; boundary=" + Boundary, "gzip", "Unsupported content encoding")]
    public async Task ALargeBodyRefusedBeforeItIsReadStillGetsItsAnswerToAClientThatSendsItAllFirst(string contentType, string? encoding, string title)
    {
        // 40 MB, within the batch limit but over Kestrel's own 30 MB: refused unread (as a request without its key is),
        // the connection used to be reset mid-body, and fetch saw a broken pipe instead of the 415.
        var body = new byte[40_000_000];
        Mnist.Png(0).CopyTo(body, 0);
        var request = RawHttp.Post("/predictions/batch", contentType, body);
        if (encoding is not null)
        {
            var head = System.Text.Encoding.Latin1.GetString(request, 0, 200);
            var at = head.IndexOf("\r\n", StringComparison.Ordinal);
            request = [.. request[..at], .. Encoding.ASCII.GetBytes($"\r\nContent-Encoding: {encoding}"), .. request[at..]];
        }

        using var response = await RawHttp.SendAsync(service.BaseAddress, request);

        var problem = await HostileAssert.ProblemAsync(response, 4, "a large body refused unread");
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Equal(title, problem.GetProperty("title").GetString());
        await service.AssertStillServingAsync("a large body refused unread");
    }

    [Fact]
    public async Task AContentLengthThatUnderstatesTheBodyIsAMalformedBodyAndTheRestIsNotARequest()
    {
        var before = await service.CountRowsAsync();
        var body = RawHttp.Part(Boundary, FilePart(fileName: "short.png"), Mnist.Png(0));
        // The length ends inside the image; what follows must not be read as a second request.
        using var response = await RawHttp.SendAsync(service.BaseAddress,
            RawHttp.Post("/prediction", $"multipart/form-data; boundary={Boundary}", body, contentLength: body.Length / 2));

        var problem = await HostileAssert.ProblemAsync(response, 4, "a body longer than its Content-Length");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("multipart", problem.GetProperty("detail").GetString());
        Assert.Equal(before, await service.CountRowsAsync());
        await service.AssertStillServingAsync("an understated Content-Length");
    }

    [Fact]
    public async Task BrokenChunkedFramingIsABadRequest()
    {
        var head = Encoding.ASCII.GetBytes($"POST /prediction HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary={Boundary}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
        byte[] request = [.. head, .. "zz\r\nnot a chunk size\r\n0\r\n\r\n"u8.ToArray()];
        var before = await service.CountRowsAsync();
        using var response = await RawHttp.SendAsync(service.BaseAddress, request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(before, await service.CountRowsAsync());
        await service.AssertStillServingAsync("broken chunked framing");
    }

    [Fact]
    public async Task ClientsThatVanishMidUploadLeaveNoRows()
    {
        var before = await service.CountRowsAsync();
        var body = RawHttp.Part(Boundary, FilePart(fileName: "vanished.png"), Mnist.Png(0));
        var request = RawHttp.Post("/prediction", $"multipart/form-data; boundary={Boundary}", body);
        // Cut at several places: in the request head, in the part headers, in the image, before the closing boundary.
        foreach (var cut in new[] { 40, request.Length - body.Length + 30, request.Length - 200, request.Length - 10 })
        {
            await RawHttp.SendAndVanishAsync(service.BaseAddress, request[..cut]);
        }

        await service.AssertStillServingAsync("clients that vanished");
        var after = await service.CountRowsAsync();
        // Only the check upload itself was stored.
        Assert.Equal((before.Inputs + 1, before.Predictions + 1), after);
    }
}
