using System.Net;
using System.Text;
using System.Text.Json;
using Npgsql;

namespace PredictionApi.Tests.OpenInference;

/// <summary>
/// Inference bodies over the limit (twice Batch:MaxTotalBytes, 2 MiB here) on real Kestrel, sent by a client that reads
/// no answer until it has sent the whole body, as HttpClient does: each gets the protocol's 413, nothing is stored, and
/// the service keeps serving.
/// </summary>
public sealed class OversizedInferenceTests : IAsyncLifetime
{
    private const int LimitBytes = 2 * 1024 * 1024;

    private string _database = null!;
    private PredictionApiFactory _factory = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _database = await TestPostgres.CreateDatabaseAsync("v2oversized");
        _factory = new PredictionApiFactory(_database, new Dictionary<string, string?> { ["Batch:MaxTotalBytes"] = (LimitBytes / 2).ToString() });
        _client = new HttpClient { BaseAddress = _factory.StartKestrel(), Timeout = TimeSpan.FromSeconds(60) };
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _factory.DisposeAsync();
        await TestPostgres.DropDatabaseAsync(_database);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ABodyOverTheLimitIsA413ForAClientStillSendingIt(bool lengthKnown)
    {
        // A valid request padded with whitespace, four times the limit.
        var json = Encoding.UTF8.GetBytes("""{"inputs": [{"name": "input", "shape": [1], "datatype": "BYTES", "data": [""" + new string(' ', 4 * LimitBytes) + "\"AA==\"]}]}");
        using var content = new BodyContent(json, lengthKnown);
        content.Headers.ContentType = new("application/json");
        var before = await CountRowsAsync();

        // A chunked one used to be cut off by a reset while HttpClient was still sending it: a broken pipe, no answer.
        using var response = await _client.PostAsync("/v2/models/mnist/infer", content);

        await V2Assert.ErrorAsync(response, HttpStatusCode.RequestEntityTooLarge, $"larger than the {LimitBytes} bytes");
        Assert.Equal(before, await CountRowsAsync());
        var image = JsonSerializer.Serialize(new { inputs = new[] { new { name = "input", shape = new[] { 1 }, datatype = "BYTES", data = new[] { Convert.ToBase64String(Mnist.Png(0)) } } } });
        using var next = await _client.PostAsync("/v2/models/mnist/infer", new StringContent(image, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
    }

    private async Task<long> CountRowsAsync()
    {
        await using var connection = new NpgsqlConnection(_database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM predictions", connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>The bytes with their length declared, or sent chunked as a stream of unknown length is.</summary>
    private sealed class BodyContent(byte[] bytes, bool lengthKnown) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => stream.WriteAsync(bytes).AsTask();

        protected override bool TryComputeLength(out long length)
        {
            length = bytes.Length;
            return lengthKnown;
        }
    }
}
