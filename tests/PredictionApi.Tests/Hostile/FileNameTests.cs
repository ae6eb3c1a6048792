using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Dapper;
using Npgsql;

namespace PredictionApi.Tests.Hostile;

/// <summary>
/// Client file names are stored and echoed, so hostile ones must come out as plain names: no NUL
/// (PostgreSQL text cannot hold it, which used to be a 500), no control or bidirectional characters,
/// no directories, no half of a surrogate pair after shortening, never more than 255 characters.
/// </summary>
public sealed class FileNameTests(HostileService service) : IClassFixture<HostileService>
{
    private const string Smile = "\U0001F600";

    public static readonly (string Sent, string Stored)[] Names =
    [
        ("a\0b.png", "ab.png"),
        ("line\r\nX-Injected: 1.png", "lineX-Injected: 1.png"),
        ("tab\there\u007F\u0085.png", "tabhere.png"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\digit.png", "digit.png"),
        ("\u202Egnp.exe", "gnp.exe"),
        ("\u2066evil\u2069.png", "evil.png"),
        (new string('x', 10_000) + ".png", new string('x', 251) + ".png"),
        // Shortening keeps the extension and never splits the emoji's surrogate pair.
        (string.Concat(Enumerable.Repeat(Smile, 200)) + ".png", string.Concat(Enumerable.Repeat(Smile, 125)) + ".png"),
        (new string('a', 254) + Smile + "tail", new string('a', 254)),
        // The client already sends a lone surrogate as U+FFFD; the name survives the round trip.
        ("lone\uD800surrogate.png", "lone\uFFFDsurrogate.png"),
        ("\u0001\u0002", "upload"),
        ("  ", "upload"),
        ("..", "upload"),
        ("folder/", "upload"),
        ("<img src=x onerror=alert(1)>.png", "<img src=x onerror=alert(1)>.png"),
        ("数字 ٣.png", "数字 ٣.png"),
    ];

    [Fact]
    public async Task HostileFileNamesAreStoredAndEchoedAsPlainNames()
    {
        foreach (var (sent, stored) in Names)
        {
            using var response = await service.Client.PostAsync("/prediction", FormWithName(Mnist.Png(0), sent));
            var what = $"file name {Escape(sent)}";
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{what}: {(int)response.StatusCode} {text}");
            var body = JsonSerializer.Deserialize<JsonElement>(text);
            Assert.Equal(stored, body.GetProperty("filename").GetString());
            var id = body.GetProperty("prediction_id").GetInt64();
            Assert.Equal(stored, await StoredNameAsync(id));
            var fetched = await service.Client.GetFromJsonAsync<JsonElement>($"/prediction/{id}");
            Assert.Equal(stored, fetched.GetProperty("filename").GetString());
        }
    }

    [Fact]
    public async Task ABatchWithHostileNamesStoresEveryFileUnderAPlainName()
    {
        var form = new MultipartFormDataContent();
        foreach (var (sent, _) in Names.Take(6))
        {
            var part = new ByteArrayContent(Mnist.Png(1));
            part.Headers.ContentType = new MediaTypeHeaderValue("image/png");
            part.Headers.ContentDisposition = new ContentDispositionHeaderValue("form-data") { Name = "\"file\"", FileNameStar = sent };
            form.Add(part);
        }

        using var response = await service.Client.PostAsync("/predictions/batch", form);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode} {text}");
        var items = JsonSerializer.Deserialize<JsonElement[]>(text)!;
        Assert.Equal(Names.Take(6).Select(n => n.Stored), items.Select(i => i.GetProperty("filename").GetString()));
        foreach (var item in items)
        {
            Assert.Equal(item.GetProperty("filename").GetString(), await StoredNameAsync(item.GetProperty("prediction_id").GetInt64()));
        }
    }

    [Theory]
    // Go's mime/multipart escapes a quote and a backslash inside the quoted name; an old browser sent a raw Windows path.
    [InlineData("filename=\"a\\\"b.png\"", "a\"b.png")]
    [InlineData("filename=\"say \\\"7\\\".png\"", "say \"7\".png")]
    [InlineData("filename=\"dir\\\\b.png\"", "b.png")]
    [InlineData("filename=\"C:\\Users\\me\\digit.png\"", "digit.png")]
    [InlineData("filename=plain.png", "plain.png")]
    public async Task QuotedNamesAreReadWithTheirEscapesUndone(string disposition, string stored)
    {
        using var response = await PostWithDispositionAsync(disposition);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("prediction_id").GetInt64();
        Assert.Equal(stored, await StoredNameAsync(id));
    }

    [Theory]
    [InlineData("filename=\"\xFF\xFE\x80.png\"")]
    [InlineData("filename*=UTF-8''%FF%FE%00.png")]
    [InlineData("filename*=UTF-8''%E2%80%AE%0D%0A.png")]
    [InlineData("filename*=ISO-8859-1''caf%E9.png")]
    [InlineData("filename*=garbage'''%%%")]
    [InlineData("filename=\"unterminated.png")]
    public async Task NamesThatAreNotUtf8OrNotEncodedProperlyNeverBreakTheUpload(string disposition)
    {
        var before = await service.CountRowsAsync();
        using var response = await PostWithDispositionAsync(disposition);

        var status = await HostileAssert.OkOrClientProblemAsync(response, disposition);
        var after = await service.CountRowsAsync();
        if (status != HttpStatusCode.OK)
        {
            Assert.Equal(before, after);
            return;
        }

        var name = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("filename").GetString()!;
        Assert.True(IsPlain(name), $"{disposition}: stored as {Escape(name)}");
        Assert.Equal((before.Inputs + 1, before.Predictions + 1), after);
    }

    /// <summary>One upload whose part has exactly <paramref name="disposition"/> after its name, as raw bytes on the wire.</summary>
    private Task<HttpResponseMessage> PostWithDispositionAsync(string disposition)
    {
        // Latin-1 keeps each char of the header as one byte, so \xFF goes out as the raw byte 0xFF.
        var headers = Encoding.Latin1.GetBytes($"Content-Disposition: form-data; name=\"file\"; {disposition}\r\nContent-Type: image/png");
        var body = RawHttp.Part("b0undary", headers, Mnist.Png(0));
        return RawHttp.SendAsync(service.BaseAddress, RawHttp.Post("/prediction", "multipart/form-data; boundary=b0undary", body));
    }

    private static MultipartFormDataContent FormWithName(byte[] bytes, string name)
    {
        var file = new ByteArrayContent(bytes);
        file.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        // filename* (RFC 5987) carries any Unicode, including what a plain quoted filename cannot.
        file.Headers.ContentDisposition = new ContentDispositionHeaderValue("form-data") { Name = "\"file\"", FileNameStar = name };
        return new MultipartFormDataContent { file };
    }

    private async Task<string> StoredNameAsync(long predictionId)
    {
        await using var connection = new NpgsqlConnection(service.ConnectionString);
        return await connection.QuerySingleAsync<string>(
            "SELECT i.filename FROM predictions p JOIN inputs i ON i.id = p.input_id WHERE p.id = @predictionId", new { predictionId });
    }

    private static bool IsPlain(string name) =>
        name.Length is > 0 and <= 255 && !name.Contains('/') && !name.Contains('\\')
        && !name.Any(c => char.IsControl(c) || c is >= '\u202A' and <= '\u202E')
        && Encoding.UTF8.GetString(new UTF8Encoding(false, true).GetBytes(name)) == name;

    private static string Escape(string s) => JsonSerializer.Serialize(s.Length > 40 ? s[..40] + "…" : s);
}
