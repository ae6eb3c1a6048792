using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using Dapper;
using Npgsql;

namespace PredictionApi.Tests.Hostile;

/// <summary>
/// 200 uploads at once, a quarter of them broken, against a connection pool of 16 on real Kestrel:
/// every good upload gets a 200 whose ids point at exactly its own bytes and probabilities, every
/// broken one a 4xx problem, and the tables hold exactly the 200s, with no input left without its prediction.
/// </summary>
public sealed class ConcurrencyTests : IAsyncLifetime
{
    private const int Uploads = 200;
    private string _database = null!;
    private PredictionApiFactory _factory = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _database = await TestPostgres.CreateDatabaseAsync("concurrent");
        // Fewer connections than requests, so requests also queue for the pool.
        var pooled = new NpgsqlConnectionStringBuilder(_database) { MaxPoolSize = 16 }.ConnectionString;
        // Admission lets all of them in: this is about concurrency, not about refusing overload.
        _factory = new PredictionApiFactory(pooled, new Dictionary<string, string?> { ["Admission:MaxQueuedUploads"] = "1000" });
        _client = new HttpClient { BaseAddress = _factory.StartKestrel(), Timeout = TimeSpan.FromSeconds(120) };
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _factory.DisposeAsync();
        await TestPostgres.DropDatabaseAsync(_database);
    }

    [Fact]
    public async Task TwoHundredConcurrentUploadsStoreExactlyTheAcceptedOnes()
    {
        var uploads = Enumerable.Range(0, Uploads).Select(i =>
        {
            var png = Mnist.Png(i);
            // Every fourth upload is broken in one of two ways.
            var bytes = (i % 4, i % 8) switch
            {
                (3, 3) => png[..(png.Length / 2)],
                (3, _) => "not an image at all"u8.ToArray(),
                _ => png,
            };
            return (Name: $"concurrent-{i:D3}.png", Bytes: bytes, Good: i % 4 != 3);
        }).ToArray();

        var responses = await Task.WhenAll(uploads.Select(async u =>
        {
            using var response = await _client.PostAsync("/prediction", TestImages.Form(u.Bytes, u.Name));
            var status = await HostileAssert.OkOrClientProblemAsync(response, u.Name);
            return (Status: status, Body: JsonSerializer.Deserialize<JsonElement>(await response.Content.ReadAsStringAsync()));
        }));

        await using var connection = new NpgsqlConnection(_database);
        var accepted = 0;
        var ids = new HashSet<long>();
        for (var i = 0; i < Uploads; i++)
        {
            var (name, bytes, good) = uploads[i];
            var (status, body) = responses[i];
            Assert.True(good == (status == HttpStatusCode.OK), $"{name}: {(int)status}");
            if (!good)
            {
                continue;
            }

            accepted++;
            var predictionId = body.GetProperty("prediction_id").GetInt64();
            Assert.True(ids.Add(predictionId), $"{name}: prediction id {predictionId} was handed out twice");
            var row = await connection.QuerySingleAsync<(long InputId, string Filename, byte[] Sha256, string Probabilities, int LikelyClass)>(
                """
                SELECT i.id, i.filename, i.sha256, p.probabilities::text, p.likely_class
                FROM predictions p JOIN inputs i ON i.id = p.input_id WHERE p.id = @predictionId
                """, new { predictionId });
            Assert.Equal(body.GetProperty("input_id").GetInt64(), row.InputId);
            Assert.Equal(name, row.Filename);
            Assert.Equal(SHA256.HashData(bytes), row.Sha256);
            Assert.Equal(body.GetProperty("likely_class").GetInt32(), row.LikelyClass);
            var stored = JsonSerializer.Deserialize<float[]>(row.Probabilities)!;
            Assert.Equal(body.GetProperty("prediction").EnumerateArray().Select(p => p.GetSingle()), stored);
        }

        var counts = await connection.QuerySingleAsync<(long Inputs, long Predictions, long Orphans)>(
            "SELECT (SELECT count(*) FROM inputs), (SELECT count(*) FROM predictions), (SELECT count(*) FROM inputs i WHERE NOT EXISTS (SELECT 1 FROM predictions p WHERE p.input_id = i.id))");
        Assert.Equal((accepted, accepted, 0L), counts);
        Assert.Equal(Uploads * 3 / 4, accepted);
    }
}
