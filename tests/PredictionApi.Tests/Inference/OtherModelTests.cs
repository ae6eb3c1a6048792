using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace PredictionApi.Tests.Inference;

/// <summary>The service serving a model other than MNIST: a Keras-style NHWC colour model with softmax output.</summary>
public sealed class OtherModelTests : IAsyncLifetime
{
    private readonly string _models = SyntheticModels.TempModelsFolder();
    private string _database = null!;
    private float[] _weights = null!;
    private PredictionApiFactory _factory = null!;

    public async Task InitializeAsync()
    {
        _weights = SyntheticModels.WriteLinear(_models, "colours", ["batch", 4, 4, 3], classes: 3, probabilities: true,
            manifestJson: """{ "name": "colours", "version": "2026-01", "labels": ["red", "green", "blue"] }""");
        _database = await TestPostgres.CreateDatabaseAsync("colours");
        _factory = new PredictionApiFactory(_database, new Dictionary<string, string?> { ["Model:Directory"] = _models, ["Model:Name"] = "colours" });
    }

    public async Task DisposeAsync()
    {
        await _factory.DisposeAsync();
        await TestPostgres.DropDatabaseAsync(_database);
        Directory.Delete(_models, recursive: true);
    }

    [Fact]
    public async Task AColourImageReachesAnNhwcModelAsRgbOverTwoFiftyFiveAndItsSoftmaxIsReported()
    {
        var rgb = Enumerable.Range(0, 4 * 4 * 3).Select(i => (byte)(i * 5)).ToArray();
        using var client = _factory.CreateClient();

        using var response = await client.PostAsync("/prediction?include=tensor", TestImages.Form(TestImages.PngRgb(4, 4, rgb), "swatch.png"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        var tensor = body.GetProperty("tensor");
        Assert.Equal("NHWC", tensor.GetProperty("layout").GetString());
        Assert.Equal([1L, 4, 4, 3], tensor.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()));
        var expectedTensor = rgb.Select(v => v / 255f).ToArray();
        Assert.Equal(expectedTensor, tensor.GetProperty("data").EnumerateArray().Select(v => v.GetSingle()));

        var expected = SyntheticModels.ExpectedProbabilities(_weights, 3, expectedTensor);
        var prediction = body.GetProperty("prediction").EnumerateArray().Select(p => p.GetSingle()).ToArray();
        for (var c = 0; c < 3; c++)
        {
            Assert.Equal(expected[c], prediction[c], 4);
        }

        Assert.Equal(Array.IndexOf(expected, expected.Max()), body.GetProperty("likely_class").GetInt32());
        Assert.Equal("colours", body.GetProperty("model").GetProperty("name").GetString());
        Assert.Equal("2026-01", body.GetProperty("model").GetProperty("version").GetString());
        var model = await client.GetFromJsonAsync<JsonElement>("/models/colours");
        Assert.Equal(["red", "green", "blue"], model.GetProperty("labels").EnumerateArray().Select(l => l.GetString()));
    }

    [Fact]
    public async Task ABrokenModelFolderStopsTheServiceAtStartWithTheReason()
    {
        var factory = new PredictionApiFactory(_database, new Dictionary<string, string?> { ["Model:Directory"] = _models, ["Model:Name"] = "missing" });
        var e = await Record.ExceptionAsync(() => Task.Run(() => factory.CreateClient()));
        Assert.NotNull(e);
        Assert.Contains("colours", e.ToString());
        Assert.Contains("missing", e.ToString());
        await factory.DisposeAsync();
    }
}
