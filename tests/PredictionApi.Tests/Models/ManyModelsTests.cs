using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Npgsql;

namespace PredictionApi.Tests.Models;

/// <summary>
/// One process serving several models at once: the shipped mnist model (the default), the shipped fashion model, and a
/// model a user dropped in with only an ONNX file and a hand-written manifest, each chosen per request with ?model=.
/// </summary>
public sealed class ManyModelsTests : IAsyncLifetime
{
    private readonly ModelsService _service = new();

    public async Task InitializeAsync()
    {
        ModelFolder.CopyShipped(_service.Folder, "fashion");
        ModelFolder.WriteColours(_service.Folder);
        // A folder that cannot be served: the others still are, and it shows as failed.
        ModelFolder.WriteBroken(_service.Folder);
        await _service.StartAsync("models");
    }

    public async Task DisposeAsync() => await _service.DisposeAsync();

    [Fact]
    public async Task EveryModelFolderIsServedAndListedWithItsStateAndABrokenOneWithItsReason()
    {
        using var client = _service.Factory.CreateClient();
        var models = await client.GetFromJsonAsync<JsonElement>("/models");

        var byName = models.EnumerateArray().ToDictionary(m => m.GetProperty("name").GetString()!);
        Assert.Equal(["broken", "colours", "fashion", "mnist"], byName.Keys.Order());
        Assert.Equal(("ready", "1.0.0", "Ankle boot"), (byName["fashion"].GetProperty("state").GetString(), byName["fashion"].GetProperty("version").GetString(),
            byName["fashion"].GetProperty("labels")[9].GetString()));
        Assert.Equal(("ready", true, "2.0.0"), (byName["mnist"].GetProperty("state").GetString(), byName["mnist"].GetProperty("default").GetBoolean(), byName["mnist"].GetProperty("version").GetString()));
        Assert.Equal(("ready", false, "7"), (byName["colours"].GetProperty("state").GetString(), byName["colours"].GetProperty("default").GetBoolean(), byName["colours"].GetProperty("version").GetString()));
        Assert.Equal("failed", byName["broken"].GetProperty("state").GetString());
        Assert.Contains("ONNX Runtime cannot load", byName["broken"].GetProperty("reason").GetString());
        Assert.Equal(JsonValueKind.Null, byName["broken"].GetProperty("version").ValueKind);

        // Readiness is the default model's; the broken one does not make the service unready.
        using var ready = await client.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
    }

    [Fact]
    public async Task EachModelClassifiesExactlyAsOnnxRuntimeDoesOffline()
    {
        using var client = _service.Factory.CreateClient();

        // No ?model=: the default, as existing clients expect.
        var digit = await PostAsync(client, "/prediction?include=tensor", Mnist.Png(0));
        Assert.Equal("mnist", digit.GetProperty("model").GetProperty("name").GetString());
        AssertSameAsOffline(Path.Combine(_service.Folder, "mnist", "model.onnx"), digit, logits: true);

        // A light product on a dark ground, as Fashion-MNIST has them, passes the fashion profile unchanged.
        var garment = await PostAsync(client, "/prediction?model=fashion&include=tensor", Mnist.Png(3));
        Assert.Equal(("fashion", "1.0.0"), (garment.GetProperty("model").GetProperty("name").GetString(), garment.GetProperty("model").GetProperty("version").GetString()));
        AssertSameAsOffline(Path.Combine(_service.Folder, "fashion", "model.onnx"), garment, logits: true);

        var rgb = Enumerable.Range(0, 48).Select(i => (byte)(i * 5)).ToArray();
        var colour = await PostAsync(client, "/prediction?model=colours&include=tensor", TestImages.PngRgb(4, 4, rgb));
        Assert.Equal(("colours", "7"), (colour.GetProperty("model").GetProperty("name").GetString(), colour.GetProperty("model").GetProperty("version").GetString()));
        AssertSameAsOffline(Path.Combine(_service.Folder, "colours", "model.onnx"), colour, logits: true);
        // The labels are the colour model's, also when the stored prediction is read back.
        Assert.Contains(colour.GetProperty("labels")[0].GetProperty("name").GetString(), new[] { "red", "green", "blue" });
        var stored = await client.GetFromJsonAsync<JsonElement>($"/prediction/{colour.GetProperty("prediction_id").GetInt64()}");
        Assert.Equal(colour.GetProperty("labels")[0].GetProperty("name").GetString(), stored.GetProperty("labels")[0].GetProperty("name").GetString());

        await using var connection = new NpgsqlConnection(_service.Database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT model_name || ':' || model_version FROM predictions ORDER BY id", connection);
        var rows = new List<string>();
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                rows.Add(reader.GetString(0));
            }
        }

        Assert.Equal(["mnist:2.0.0", "fashion:1.0.0", "colours:7"], rows);
    }

    [Fact]
    public async Task TheBatchEndpointTakesTheSameChoice()
    {
        using var client = _service.Factory.CreateClient();
        using var form = new MultipartFormDataContent();
        form.Add(new ByteArrayContent(TestImages.PngRgb(4, 4, new byte[48])), "file", "a.png");
        form.Add(new ByteArrayContent(TestImages.PngRgb(4, 4, Enumerable.Repeat((byte)200, 48).ToArray())), "file", "b.png");
        using var response = await client.PostAsync("/predictions/batch?model=colours", form);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var items = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.All(items.EnumerateArray(), i => Assert.Equal("colours", i.GetProperty("model").GetProperty("name").GetString()));
    }

    [Theory]
    [InlineData("/prediction?model=nope", HttpStatusCode.NotFound, "There is no model 'nope'")]
    [InlineData("/prediction?model=mnist&version=9", HttpStatusCode.NotFound, "Version '9' of the model 'mnist' is not loaded")]
    [InlineData("/predictions/batch?model=broken", HttpStatusCode.ServiceUnavailable, "The model 'broken' is failed")]
    public async Task AModelThatIsNotServedIsAProblemNamingIt(string path, HttpStatusCode status, string detail)
    {
        using var client = _service.Factory.CreateClient();
        using var response = await client.PostAsync(path, TestImages.Form(Mnist.Png(1)));
        await ProblemAssert.AssertProblemAsync(response, status, detail);
        await using var connection = new NpgsqlConnection(_service.Database);
        await connection.OpenAsync();
        await using var count = new NpgsqlCommand("SELECT count(*) FROM inputs", connection);
        Assert.Equal(0L, (long)(await count.ExecuteScalarAsync())!);
    }

    private static async Task<JsonElement> PostAsync(HttpClient client, string path, byte[] png)
    {
        using var response = await client.PostAsync(path, TestImages.Form(png));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    /// <summary>Runs the tensor the service reports through a session of our own and compares the probabilities.</summary>
    private static void AssertSameAsOffline(string onnx, JsonElement answer, bool logits)
    {
        var tensor = answer.GetProperty("tensor");
        var shape = tensor.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()).ToArray();
        var data = tensor.GetProperty("data").EnumerateArray().Select(v => v.GetSingle()).ToArray();
        using var session = new InferenceSession(onnx);
        var input = session.InputMetadata.Keys.First();
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(input, new DenseTensor<float>(data, shape))]);
        var raw = results.First().AsEnumerable<float>().ToArray();
        var expected = logits ? Softmax(raw) : raw;
        var reported = answer.GetProperty("prediction").EnumerateArray().Select(p => p.GetSingle()).ToArray();
        Assert.Equal(expected.Length, reported.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i], reported[i], 1e-6f);
        }
    }

    private static float[] Softmax(float[] logits)
    {
        var max = logits.Max();
        var exp = logits.Select(l => Math.Exp(l - max)).ToArray();
        var sum = exp.Sum();
        return exp.Select(e => (float)(e / sum)).ToArray();
    }
}
