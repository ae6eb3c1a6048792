using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Npgsql;

namespace PredictionApi.Tests.Predictions;

/// <summary>
/// The first 1,000 MNIST test images, PNG-encoded and POSTed through real Kestrel, must be classified
/// exactly as ONNX Runtime classifies their raw pixels offline, image by image, and all must be stored.
/// </summary>
public sealed class EndToEndAccuracyTests
{
    private const int Count = 1000;

    [Fact]
    public async Task ApiAgreesWithOfflineOnnxRuntimeOnEveryImageAndStoresThemAll()
    {
        var images = Mnist.Images;
        var labels = Mnist.Labels;
        var offline = OfflineModel.Predictions("mnist", images, Count);

        var database = await TestPostgres.CreateDatabaseAsync("e2e");
        await using var drop = new DropDatabase(database);
        await using var factory = new PredictionApiFactory(database);
        using var client = new HttpClient { BaseAddress = factory.StartKestrel() };
        var api = new ConcurrentDictionary<int, (int LikelyClass, long PredictionId)>();
        await Parallel.ForEachAsync(Enumerable.Range(0, Count), new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (i, ct) =>
        {
            using var response = await client.PostAsync("/prediction", TestImages.Form(Mnist.Png(i), $"t10k-{i:D4}.png"), ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var body = await response.Content.ReadFromJsonAsync<JsonElement>(ct);
            api[i] = (body.GetProperty("likely_class").GetInt32(), body.GetProperty("prediction_id").GetInt64());
        });

        var disagreements = Enumerable.Range(0, Count).Where(i => api[i].LikelyClass != offline[i]).ToList();
        Assert.True(disagreements.Count == 0, $"API and offline ORT disagree on images {string.Join(", ", disagreements.Take(20))}");
        var apiAccuracy = Enumerable.Range(0, Count).Count(i => api[i].LikelyClass == labels[i]) / (double)Count;
        var offlineAccuracy = Enumerable.Range(0, Count).Count(i => offline[i] == labels[i]) / (double)Count;
        Assert.Equal(offlineAccuracy, apiAccuracy);

        // Every prediction landed in PostgreSQL, linked to the exact image that was sent.
        await using var connection = new NpgsqlConnection(database);
        var rows = (await connection.QueryAsync<(long Id, string Filename, int LikelyClass, string Data)>("""
            SELECT p.id, i.filename, p.likely_class, i.data FROM predictions p JOIN inputs i ON i.id = p.input_id
            """)).ToDictionary(r => r.Id);
        Assert.Equal(Count, rows.Count);
        for (var i = 0; i < Count; i++)
        {
            var row = rows[api[i].PredictionId];
            Assert.Equal($"t10k-{i:D4}.png", row.Filename);
            Assert.Equal(offline[i], row.LikelyClass);
            Assert.Equal(Mnist.Png(i), Convert.FromBase64String(row.Data));
        }
    }

    private sealed class DropDatabase(string connectionString) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync() => await TestPostgres.DropDatabaseAsync(connectionString);
    }
}
