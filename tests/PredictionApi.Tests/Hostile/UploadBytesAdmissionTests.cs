using System.Net;
using System.Net.Http.Headers;
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

        // A slow client: 60,000 bytes declared, a few sent, the rest held back.
        var release = new TaskCompletionSource();
        var holder = client.PostAsync("/prediction", new HeldBody(60_000, release.Task));
        await WaitForBytesHeldAsync(client);

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

        release.SetResult();
        using (var held = await holder)
        {
            Assert.True((int)held.StatusCode is >= 400 and < 500, $"the held body got {(int)held.StatusCode}");
        }

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

    /// <summary>The held upload has been admitted once a body the budget cannot take beside it is refused.</summary>
    private static async Task WaitForBytesHeldAsync(HttpClient client)
    {
        var filler = new byte[Budget - 30_000];
        for (var attempt = 0; attempt < 200; attempt++)
        {
            using var probe = await client.PostAsync("/prediction", TestImages.Form(filler, "probe.png"));
            if (probe.StatusCode == HttpStatusCode.ServiceUnavailable)
            {
                return;
            }

            await Task.Delay(25);
        }

        Assert.Fail("the held upload was never counted against the byte budget");
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

    /// <summary>A multipart body that declares <c>length</c> bytes, sends its first part header and holds the rest until released.</summary>
    private sealed class HeldBody : HttpContent
    {
        private const string Boundary = "held-boundary";
        private readonly int _length;
        private readonly Task _release;

        public HeldBody(int length, Task release)
        {
            _length = length;
            _release = release;
            Headers.ContentType = MediaTypeHeaderValue.Parse($"multipart/form-data; boundary={Boundary}");
        }

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            var head = System.Text.Encoding.ASCII.GetBytes($"--{Boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"held.png\"\r\nContent-Type: image/png\r\n\r\n");
            await stream.WriteAsync(head);
            await stream.FlushAsync();
            await _release;
            await stream.WriteAsync(new byte[_length - head.Length]);
        }

        protected override bool TryComputeLength(out long length)
        {
            length = _length;
            return true;
        }
    }
}
