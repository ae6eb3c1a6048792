using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace PredictionApi.Tests.Inference;

/// <summary>
/// The service serving models/fashion (Model:Name=fashion): Fashion-MNIST test images in their own form are
/// classified exactly as offline ONNX Runtime classifies their pixels, and the same clothes photographed dark on
/// a light, larger, off-white canvas reach the model through the fashion profile and are still recognised.
/// </summary>
public sealed class FashionModelTests : IAsyncLifetime
{
    private const int Count = 500;

    private string _database = null!;
    private PredictionApiFactory _factory = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _database = await TestPostgres.CreateDatabaseAsync("fashion");
        _factory = new PredictionApiFactory(_database, new Dictionary<string, string?> { ["Model:Name"] = "fashion" });
        _client = _factory.CreateClient();
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _factory.DisposeAsync();
        await TestPostgres.DropDatabaseAsync(_database);
    }

    [FashionFact]
    public async Task TestImagesInTheirOwnFormAreClassifiedAsOfflineOnnxRuntimeDoes()
    {
        var offline = OfflineModel.Predictions("fashion", FashionMnist.Images, Count);
        var api = await ClassifyAsync(i => FashionMnist.Png(i), "t10k");

        var disagreements = Enumerable.Range(0, Count).Where(i => api[i] != offline[i]).ToList();
        Assert.True(disagreements.Count == 0, $"API and offline ORT disagree on images {string.Join(", ", disagreements.Take(20))}");
        var accuracy = Accuracy(api);
        Assert.True(accuracy >= 0.88, $"accuracy {accuracy:P1} on the first {Count} test images");

        var model = await _client.GetFromJsonAsync<JsonElement>("/models/fashion");
        Assert.Equal(["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"],
            model.GetProperty("labels").EnumerateArray().Select(l => l.GetString()));
    }

    [FashionFact]
    public async Task ProductPhotosOnALightCanvasAreRecognisedLikeTheImagesThemselves()
    {
        var native = await ClassifyAsync(i => FashionMnist.Png(i), "t10k");
        var photos = await ClassifyAsync(i =>
        {
            // Enlarged 3 to 6 times, on a wider-than-tall canvas of level 230 to 255, off centre.
            var scale = 3 + i % 4;
            var (width, height) = (28 * scale + 60 + 7 * (i % 5), 28 * scale + 24);
            var pixels = ProductPhotos.Render(FashionMnist.Images.Image(i), scale, width, height, 10 + 9 * (i % 5), 6 + i % 13, (byte)(230 + 5 * (i % 6)));
            return TestImages.PngGray8(width, height, pixels);
        }, "photo");

        var accuracy = Accuracy(photos);
        var agreement = Enumerable.Range(0, Count).Count(i => photos[i] == native[i]) / (double)Count;
        Assert.True(accuracy >= 0.85, $"accuracy {accuracy:P1} on {Count} product photos");
        Assert.True(agreement >= 0.9, $"photo and native form agree on {agreement:P1} of {Count} images");
    }

    private async Task<int[]> ClassifyAsync(Func<int, byte[]> file, string name)
    {
        var result = new ConcurrentDictionary<int, int>();
        await Parallel.ForEachAsync(Enumerable.Range(0, Count), new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (i, ct) =>
        {
            using var response = await _client.PostAsync("/prediction", TestImages.Form(file(i), $"{name}-{i:D4}.png"), ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var body = await response.Content.ReadFromJsonAsync<JsonElement>(ct);
            Assert.Equal("fashion", body.GetProperty("model").GetProperty("name").GetString());
            result[i] = body.GetProperty("likely_class").GetInt32();
        });
        return [.. Enumerable.Range(0, Count).Select(i => result[i])];
    }

    private static double Accuracy(int[] predicted) =>
        Enumerable.Range(0, Count).Count(i => predicted[i] == FashionMnist.Labels[i]) / (double)Count;
}
