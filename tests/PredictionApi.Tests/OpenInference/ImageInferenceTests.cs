using System.Net;
using System.Text.Json;
using PredictionApi.Tests.Models;

namespace PredictionApi.Tests.OpenInference;

/// <summary>
/// BYTES inputs holding base64-encoded images: preprocessed and classified exactly as an upload of the same file, stored
/// as an upload with its bytes, several of them as a batch; and the version in the path chooses the version that answers.
/// </summary>
public sealed class ImageInferenceTests(OpenInferenceService service) : IClassFixture<OpenInferenceService>
{
    private readonly HttpClient _client = service.Factory.CreateClient();

    private static object Images(string input, params byte[][] images) => new
    {
        inputs = new[] { new { name = input, shape = new[] { images.Length }, datatype = "BYTES", data = images.Select(Convert.ToBase64String).ToArray() } },
    };

    [Fact]
    public async Task APngIsAnsweredAsPostPredictionAnswersTheSameFileAndStoredWithItsBytes()
    {
        var png = Mnist.Png(8);
        var upload = await _client.PostPredictionAsync(png);

        var answer = await OpenInferenceService.InferAsync(_client, "/v2/models/mnist/infer", Images("input", png));

        var probabilities = OpenInferenceService.Output(answer, "probabilities");
        Assert.Equal([1L, 10L], probabilities.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()));
        // Bit for bit: the same decoding, preprocessing and batch-of-one run as the upload.
        Assert.Equal(upload.GetProperty("prediction").GetRawText(), probabilities.GetProperty("data").GetRawText());
        Assert.Equal([upload.GetProperty("likely_class").GetInt32().ToString()],
            OpenInferenceService.Output(answer, "label").GetProperty("data").EnumerateArray().Select(l => l.GetString()));

        var id = OpenInferenceService.PredictionIds(answer).Single();
        Assert.NotEqual(upload.GetProperty("prediction_id").GetInt64(), id);
        using var image = await _client.GetAsync($"/prediction/{id}/image");
        Assert.Equal("image/png", image.Content.Headers.ContentType?.MediaType);
        Assert.Equal(png, await image.Content.ReadAsByteArrayAsync());
        var row = await service.StoredAsync(id);
        Assert.Equal(("image/png", 28, 28, png.Length), (row.ContentType, row.Width, row.Height, row.ByteSize));
    }

    [Fact]
    public async Task SeveralImagesAreABatchAnsweredAndStoredInOrder()
    {
        var digits = new[] { 10, 11, 12 };
        var before = await service.CountRowsAsync();
        var answer = await OpenInferenceService.InferAsync(_client, "/v2/models/mnist/infer", new
        {
            id = "three",
            // [batch, 1] with nested data, and the content_type parameter MLServer clients send: both are accepted.
            inputs = new[]
            {
                new
                {
                    name = "input", shape = new[] { 3, 1 }, datatype = "BYTES", parameters = new { content_type = "base64" },
                    data = digits.Select(d => new[] { Convert.ToBase64String(Mnist.Png(d)) }).ToArray(),
                },
            },
        });

        Assert.Equal("three", answer.GetProperty("id").GetString());
        Assert.Equal(digits.Select(d => Mnist.Labels[d].ToString()), OpenInferenceService.Output(answer, "label").GetProperty("data").EnumerateArray().Select(l => l.GetString()));
        var ids = OpenInferenceService.PredictionIds(answer);
        Assert.Equal((before.Inputs + 3, before.Predictions + 3), await service.CountRowsAsync());
        for (var i = 0; i < 3; i++)
        {
            using var image = await _client.GetAsync($"/prediction/{ids[i]}/image");
            Assert.Equal(Mnist.Png(digits[i]), await image.Content.ReadAsByteArrayAsync());
        }
    }

    [Fact]
    public async Task TheVersionInThePathAnswersWhenLoadedAndIsA404WhenNot()
    {
        var answer = await OpenInferenceService.InferAsync(_client, "/v2/models/grey/versions/10/infer", Images("pixels", ModelFolder.Swatch(3)));
        Assert.Equal(("grey", "10"), (answer.GetProperty("model_name").GetString(), answer.GetProperty("model_version").GetString()));
        var id = OpenInferenceService.PredictionIds(answer).Single();
        Assert.Equal(("grey", "10"), ((await service.StoredAsync(id)).Model, (await service.StoredAsync(id)).Version));
        Assert.Contains(OpenInferenceService.Output(answer, "label").GetProperty("data")[0].GetString(), new[] { "low", "middle", "high" });

        // A tensor for the same model, through the path without a version: the serving one, 10, answers the same.
        var tensor = await OpenInferenceService.InferAsync(_client, "/v2/models/grey/infer", new
        {
            inputs = new[] { new { name = "pixels", shape = new[] { 1, 1, 4, 4 }, datatype = "FP32", data = ModelFolder.SwatchTensor(3) } },
        });
        Assert.Equal("10", tensor.GetProperty("model_version").GetString());
        Assert.Equal(OpenInferenceService.Output(answer, "probabilities").GetProperty("data").GetRawText(),
            OpenInferenceService.Output(tensor, "probabilities").GetProperty("data").GetRawText());

        var before = await service.CountRowsAsync();
        using var notLoaded = await OpenInferenceService.PostJsonAsync(_client, "/v2/models/grey/versions/2/infer", JsonSerializer.Serialize(Images("pixels", ModelFolder.Swatch(3))));
        await V2Assert.ErrorAsync(notLoaded, HttpStatusCode.NotFound, "Version '2' of the model 'grey' is not loaded");
        Assert.Equal(before, await service.CountRowsAsync());
    }
}
