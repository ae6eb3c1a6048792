using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Microsoft.ML.OnnxRuntime;
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
        var offline = OfflinePredictions(images);

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

    /// <summary>argmax of the model's output on pixel / 255, one image per run, as a user of ONNX Runtime would do it.</summary>
    private static int[] OfflinePredictions(PredictionApi.Mnist.IdxImages images)
    {
        using var options = new Microsoft.ML.OnnxRuntime.SessionOptions { IntraOpNumThreads = 1 };
        using var session = new InferenceSession(Path.Combine(RepoPaths.Models, "mnist", "model.onnx"), options);
        using var runOptions = new RunOptions();
        var inputName = session.InputMetadata.Keys.First();
        var result = new int[Count];
        var pixels = new float[28 * 28];
        for (var i = 0; i < Count; i++)
        {
            var image = images.Image(i);
            for (var p = 0; p < pixels.Length; p++)
            {
                pixels[p] = image[p] / 255f;
            }

            using var input = OrtValue.CreateTensorValueFromMemory(pixels, [1, 1, 28, 28]);
            using var outputs = session.Run(runOptions, [inputName], [input], session.OutputNames);
            var scores = outputs[0].GetTensorDataAsSpan<float>();
            result[i] = scores.IndexOf(TensorMax(scores));
        }

        return result;
    }

    private static float TensorMax(ReadOnlySpan<float> values)
    {
        var max = float.NegativeInfinity;
        foreach (var v in values)
        {
            max = Math.Max(max, v);
        }

        return max;
    }

    private sealed class DropDatabase(string connectionString) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync() => await TestPostgres.DropDatabaseAsync(connectionString);
    }
}
