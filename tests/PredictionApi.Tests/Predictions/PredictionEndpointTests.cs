using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Npgsql;

namespace PredictionApi.Tests.Predictions;

/// <summary>The HTTP contract of POST /prediction and GET /prediction/{id}[/image], against real PostgreSQL and the default model.</summary>
public sealed class PredictionEndpointTests(ServiceFixture service) : IClassFixture<ServiceFixture>
{
    private readonly HttpClient _client = service.Factory.CreateClient();

    [Fact]
    public async Task PostingAnMnistPngReturnsTheStoredPredictionWithTheOriginalFieldNames()
    {
        var png = Mnist.Png(0);
        using var response = await _client.PostAsync("/prediction", TestImages.Form(png, "seven.png"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("seven.png", body.GetProperty("filename").GetString());
        Assert.Equal("image/png", body.GetProperty("contenttype").GetString());
        var prediction = body.GetProperty("prediction").EnumerateArray().Select(p => p.GetSingle()).ToArray();
        Assert.Equal(10, prediction.Length);
        Assert.All(prediction, p => Assert.InRange(p, 0f, 1f));
        Assert.Equal(1.0, prediction.Sum(p => (double)p), 4);
        var likely = body.GetProperty("likely_class").GetInt32();
        Assert.Equal(Array.IndexOf(prediction, prediction.Max()), likely);
        Assert.Equal(prediction[likely], body.GetProperty("confidence").GetSingle());
        Assert.Equal("mnist", body.GetProperty("model").GetProperty("name").GetString());
        Assert.False(string.IsNullOrEmpty(body.GetProperty("model").GetProperty("version").GetString()));
        Assert.False(body.TryGetProperty("tensor", out _), "the tensor is opt-in");
        var predictionId = body.GetProperty("prediction_id").GetInt64();
        var inputId = body.GetProperty("input_id").GetInt64();
        Assert.Equal($"/prediction/{predictionId}", response.Headers.Location?.OriginalString);

        // Both rows are committed and linked, the image as base64 and the probabilities as JSON.
        await using var connection = new NpgsqlConnection(service.ConnectionString);
        var row = await connection.QuerySingleAsync<(long InputId, string Data, string Probabilities, int LikelyClass, string ModelName, byte[] Sha256, int ByteSize, int Width, int Height)>(
            """
            SELECT p.input_id, i.data, p.probabilities::text, p.likely_class, p.model_name, i.sha256, i.byte_size, i.width, i.height
            FROM predictions p JOIN inputs i ON i.id = p.input_id WHERE p.id = @predictionId
            """, new { predictionId });
        Assert.Equal(inputId, row.InputId);
        Assert.Equal(png, Convert.FromBase64String(row.Data));
        Assert.Equal(prediction, JsonSerializer.Deserialize<float[]>(row.Probabilities));
        Assert.Equal(likely, row.LikelyClass);
        Assert.Equal("mnist", row.ModelName);
        Assert.Equal(System.Security.Cryptography.SHA256.HashData(png), row.Sha256);
        Assert.Equal((png.Length, 28, 28), (row.ByteSize, row.Width, row.Height));
    }

    [Fact]
    public async Task TheTrailingSlashRouteAcceptsUploadsToo()
    {
        using var response = await _client.PostAsync("/prediction/", TestImages.Form(Mnist.Png(1)));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task IncludeTensorReturnsTheExactTensorTheModelSaw()
    {
        using var response = await _client.PostAsync("/prediction?include=tensor", TestImages.Form(Mnist.Png(2)));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var tensor = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("tensor");

        Assert.Equal("NCHW", tensor.GetProperty("layout").GetString());
        Assert.Equal([1L, 1, 28, 28], tensor.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()));
        // An MNIST image is already what the model wants: pixel / 255, unchanged.
        var expected = Mnist.Images.Image(2).ToArray().Select(p => p / 255f);
        Assert.Equal(expected, tensor.GetProperty("data").EnumerateArray().Select(v => v.GetSingle()));
    }

    [Fact]
    public async Task AnUnknownIncludeValueIsABadRequest()
    {
        using var response = await _client.PostAsync("/prediction?include=everything", TestImages.Form(Mnist.Png(3)));
        await ProblemAssert.AssertProblemAsync(response, HttpStatusCode.BadRequest, "tensor");
    }

    [Fact]
    public async Task TheStoredContentTypeIsTheRealFormatNotTheDeclaredOne()
    {
        // A PNG sent as "image/jpeg" named .jpg is stored and served as what it is.
        var posted = await (await _client.PostAsync("/prediction", TestImages.Form(Mnist.Png(6), "photo.jpg", "image/jpeg"))).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("image/png", posted.GetProperty("contenttype").GetString());
        using var image = await _client.GetAsync($"/prediction/{posted.GetProperty("prediction_id").GetInt64()}/image");
        Assert.Equal("image/png", image.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData("999999999", HttpStatusCode.NotFound)]
    [InlineData("abc", HttpStatusCode.BadRequest)]
    [InlineData("-1", HttpStatusCode.BadRequest)]
    [InlineData("0", HttpStatusCode.BadRequest)]
    [InlineData("1.5", HttpStatusCode.BadRequest)]
    [InlineData("99999999999999999999999", HttpStatusCode.BadRequest)]
    public async Task UnknownOrMalformedIdsAreProblemsNeverServerErrors(string id, HttpStatusCode expected)
    {
        foreach (var path in new[] { $"/prediction/{id}", $"/prediction/{id}/image" })
        {
            using var response = await _client.GetAsync(path);
            await ProblemAssert.AssertProblemAsync(response, expected, id);
        }
    }
}
