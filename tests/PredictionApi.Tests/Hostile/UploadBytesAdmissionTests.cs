using System.Net;
using System.Text.Json;
using Dapper;
using Npgsql;

namespace PredictionApi.Tests.Hostile;

/// <summary>
/// Admission by bytes: uploads running and waiting hold at most Admission:MaxUploadBytes of request bodies between them,
/// counted by Content-Length, or as the endpoint's largest body when none is sent. One slow upload holding most of the
/// budget leaves room for a digit, not for a larger image or a body of unknown length, which are refused at once with
/// 503 and Retry-After and stored nothing; once it is done, both are taken.
/// </summary>
public sealed class UploadBytesAdmissionTests : IAsyncLifetime
{
    private const int Budget = 65_536;
    private ConfiguredService _service = null!;

    public async Task InitializeAsync()
    {
        _service = await ConfiguredService.CreateAsync("bytesadmission", new Dictionary<string, string?>
        {
            ["Admission:MaxUploadBytes"] = Budget.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Admission:RetryAfterSeconds"] = "3",
        });
    }

    public async Task DisposeAsync() => await _service.DisposeAsync();

    [Fact]
    public async Task BodiesBeyondTheByteBudgetAreRefusedAtOnceUntilTheHolderIsDone()
    {
        using var client = new HttpClient { BaseAddress = _service.Factory.StartKestrel(), Timeout = TimeSpan.FromSeconds(60) };
        var noise = new byte[100 * 100];
        new Random(20261130).NextBytes(noise);
        var larger = TestImages.PngGray8(100, 100, noise);
        Assert.InRange(larger.Length, 8_000, Budget - 60_000 + 20_000);

        // A slow client: 60,000 bytes declared, the first part's header sent, the rest held back.
        var (holder, stream) = await HoldAsync(client);
        using var held = holder;

        using (var digit = await client.PostAsync("/prediction", TestImages.Form(Mnist.Png(3))))
        {
            Assert.Equal(HttpStatusCode.OK, digit.StatusCode);
        }

        using (var refused = await client.PostAsync("/prediction", TestImages.Form(larger, "larger.png")))
        {
            await AssertRefusedAsync(refused);
        }

        using (var chunked = await client.PostAsync("/prediction", Chunked(TestImages.Form(Mnist.Png(4), "chunked.png"))))
        {
            await AssertRefusedAsync(chunked);
        }

        // The rest of the held body (not an image: a 4xx), after which its bytes are free again.
        await stream.WriteAsync(new byte[60_000 - HeldHead.Length]);
        var answer = new byte[64];
        var read = await stream.ReadAsync(answer);
        Assert.Matches("^HTTP/1.1 4", System.Text.Encoding.ASCII.GetString(answer, 0, read));
        holder.Close();

        using (var retried = await client.PostAsync("/prediction", TestImages.Form(larger, "larger.png")))
        {
            Assert.Equal(HttpStatusCode.OK, retried.StatusCode);
        }

        using (var alone = await client.PostAsync("/prediction", Chunked(TestImages.Form(Mnist.Png(4), "chunked.png"))))
        {
            Assert.Equal(HttpStatusCode.OK, alone.StatusCode);
        }

        await using var connection = new NpgsqlConnection(_service.Database);
        var names = (await connection.QueryAsync<string>("SELECT filename FROM inputs ORDER BY id")).ToArray();
        Assert.Equal(["digit.png", "larger.png", "chunked.png"], names);
    }

    private static async Task AssertRefusedAsync(HttpResponseMessage response)
    {
        await ProblemAssert.AssertProblemAsync(response, HttpStatusCode.ServiceUnavailable, "nothing was stored");
        Assert.Equal(TimeSpan.FromSeconds(3), response.Headers.RetryAfter?.Delta);
        var problem = JsonSerializer.Deserialize<JsonElement>(await response.Content.ReadAsStringAsync());
        Assert.Equal("Too busy", problem.GetProperty("title").GetString());
        Assert.Contains("upload data", problem.GetProperty("detail").GetString());
    }

    private static byte[] HeldHead => System.Text.Encoding.ASCII.GetBytes(
        "--held\r\nContent-Disposition: form-data; name=\"file\"; filename=\"held.png\"\r\nContent-Type: image/png\r\n\r\n");

    /// <summary>
    /// Sends the held upload's headers and first bytes, and waits until it is counted: a body the budget cannot take beside it
    /// is refused. A probe that arrives first is taken instead and the held upload refused; then it is sent again.
    /// </summary>
    private static async Task<(System.Net.Sockets.TcpClient Holder, System.Net.Sockets.NetworkStream Stream)> HoldAsync(HttpClient client)
    {
        var address = client.BaseAddress!;
        var probeBytes = new byte[Budget - 30_000];
        for (var attempt = 0; attempt < 20; attempt++)
        {
            var holder = new System.Net.Sockets.TcpClient();
            await holder.ConnectAsync(address.Host, address.Port);
            var stream = holder.GetStream();
            await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(
                $"POST /prediction HTTP/1.1\r\nHost: {address.Authority}\r\nContent-Type: multipart/form-data; boundary=held\r\nContent-Length: 60000\r\n\r\n"));
            await stream.WriteAsync(HeldHead);
            await Task.Delay(200 * (attempt + 1));
            using var probe = await client.PostAsync("/prediction", TestImages.Form(probeBytes, "probe.png"));
            if (probe.StatusCode == HttpStatusCode.ServiceUnavailable && holder.Available == 0)
            {
                return (holder, stream);
            }

            holder.Dispose();
        }

        Assert.Fail("the held upload was never counted against the byte budget");
        return default;
    }

    /// <summary>The same form sent without a Content-Length (chunked), as a stream of unknown length is.</summary>
    private static HttpContent Chunked(MultipartFormDataContent form)
    {
        var bytes = form.ReadAsByteArrayAsync().GetAwaiter().GetResult();
        var content = new StreamContent(new UnknownLengthStream(bytes));
        content.Headers.ContentType = form.Headers.ContentType;
        return content;
    }

    private sealed class UnknownLengthStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;
    }
}
