using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;
using PredictionApi.Onnx;

namespace PredictionApi.Tests.Models;

/// <summary>
/// Models exported by other tools, dropped into the models folder as users do: each is either served exactly as ONNX
/// Runtime computes it, or refused at load with a reason that says what to change; never served wrongly, never a 500.
/// </summary>
public sealed class ForeignModelTests : IAsyncLifetime
{
    private readonly ModelsService _service = new();
    private float[] _sqrtWeights = null!;
    private float[] _shiftedWeights = null!;
    private float[] _labelFirstWeights = null!;
    private float[] _fallbackWeights = null!;
    private float[] _labelsFileWeights = null!;

    public async Task InitializeAsync()
    {
        var root = _service.Folder;
        // sqrt(logits + 0.5): finite for most images, NaN for those that drive a logit below -0.5.
        _sqrtWeights = ModelFolder.WriteLinearWith(root, "sqrt", 3, b => b
            .AddInitializer("half", [0.5f], 1)
            .AddNode("Add", ["logits", "half"], ["shifted"])
            .AddNode("Sqrt", ["shifted"], ["scores"])
            .AddOutput("scores", OnnxElementType.Float, "batch", 3));
        // logits + 0.5 declared as probabilities: usable while no value is negative.
        _shiftedWeights = ModelFolder.WriteLinearWith(root, "shifted", 3, b => b
            .AddInitializer("half", [0.5f], 1)
            .AddNode("Add", ["logits", "half"], ["scores"])
            .AddOutput("scores", OnnxElementType.Float, "batch", 3),
            manifestJson: """{ "output": { "kind": "probabilities" } }""");
        // Logits m and 2m of the mean pixel m, no manifest: no distribution for the all-zero input, but for an image
        // whose mean is 1/3 they lie in 0..1 and sum to 1.
        Directory.CreateDirectory(Path.Combine(root, "small-logits"));
        new OnnxModelBuilder("small-logits")
            .AddInput("pixels", OnnxElementType.Float, "batch", 1, 4, 4)
            .AddInitializer("w", [.. Enumerable.Repeat(1f / 16, 16), .. Enumerable.Repeat(2f / 16, 16)], 2, 16)
            .AddNode("Flatten", ["pixels"], ["flat"], OnnxAttribute.Int("axis", 1))
            .AddNode("Gemm", ["flat", "w"], ["logits"], OnnxAttribute.Int("transB", 1))
            .AddOutput("logits", OnnxElementType.Float, "batch", 2)
            .Save(Path.Combine(root, "small-logits", "model.onnx"));
        // Class names shipped as labels.txt (with an editor's trailing blank line), no manifest; and one with a name too many.
        _labelsFileWeights = ModelFolder.WriteLinearWith(root, "labels-file", 3, b => b.AddOutput("logits", OnnxElementType.Float, "batch", 3));
        File.WriteAllText(Path.Combine(root, "labels-file", "labels.txt"), "cat\r\ndog\r\nbird\r\n\r\n");
        ModelFolder.WriteLinearWith(root, "labels-file-long", 3, b => b.AddOutput("logits", OnnxElementType.Float, "batch", 3));
        File.WriteAllText(Path.Combine(root, "labels-file-long", "labels.txt"), "cat\ndog\nbird\nfish\n");
        // Exports the service cannot serve as they are; each must be refused, saying what to change.
        ModelFolder.WriteLinearWith(root, "single-sigmoid", 1, b => b
            .AddNode("Sigmoid", ["logits"], ["p"])
            .AddOutput("p", OnnxElementType.Float, "batch", 1));
        ModelFolder.WriteLinearWith(root, "double-output", 3, b => b
            .AddNode("Cast", ["logits"], ["scores"], OnnxAttribute.Int("to", (long)OnnxElementType.Double))
            .AddOutput("scores", OnnxElementType.Double, "batch", 3));
        ModelFolder.WriteLinearWith(root, "two-inputs", 3, b => b
            .AddInput("temperature", OnnxElementType.Float, 1)
            .AddNode("Div", ["logits", "temperature"], ["scores"])
            .AddOutput("scores", OnnxElementType.Float, "batch", 3));
        ModelFolder.WriteLinearWith(root, "batch-of-four", 3, b => b.AddOutput("logits", OnnxElementType.Float, 4, 3), inputShape: [4, 1, 4, 4]);
        // Manifests that would silently serve the model with other preprocessing than its author meant.
        ModelFolder.WriteLinearWith(root, "misspelt", 3, b => b.AddOutput("logits", OnnxElementType.Float, "batch", 3),
            manifestJson: """{ "input": { "scale": "raw" } }""");
        ModelFolder.WriteLinearWith(root, "mean-without-standard", 3, b => b.AddOutput("logits", OnnxElementType.Float, "batch", 3),
            manifestJson: """{ "input": { "mean": [0.5], "std": [0.25] } }""");
        // Any size goes in, and the manifest asks for 50000x50000, whose tensor length does not even fit an int.
        Directory.CreateDirectory(Path.Combine(root, "huge"));
        new OnnxModelBuilder("huge")
            .AddInput("pixels", OnnxElementType.Float, "batch", 3, "height", "width")
            .AddNode("ReduceMean", ["pixels"], ["scores"], OnnxAttribute.Ints("axes", 2, 3), OnnxAttribute.Int("keepdims", 0))
            .AddOutput("scores", OnnxElementType.Float, "batch", 3)
            .Save(Path.Combine(root, "huge", "model.onnx"));
        File.WriteAllText(Path.Combine(root, "huge", "model.json"), """{ "input": { "height": 50000, "width": 50000 } }""");
        // Pixels as bytes, as TensorFlow exports often take them.
        Directory.CreateDirectory(Path.Combine(root, "uint8-input"));
        new OnnxModelBuilder("uint8-input")
            .AddInput("image", OnnxElementType.UInt8, "batch", 8, 8, 3)
            .AddNode("Cast", ["image"], ["pixels"], OnnxAttribute.Int("to", (long)OnnxElementType.Float))
            .AddNode("ReduceMean", ["pixels"], ["scores"], OnnxAttribute.Ints("axes", 1, 2), OnnxAttribute.Int("keepdims", 0))
            .AddOutput("scores", OnnxElementType.Float, "batch", 3)
            .Save(Path.Combine(root, "uint8-input", "model.onnx"));
        // Saved under the exporter's name, not model.onnx.
        ModelFolder.WriteLinearWith(root, "own-file-name", 3, b => b.AddOutput("logits", OnnxElementType.Float, "batch", 3));
        File.Move(Path.Combine(root, "own-file-name", "model.onnx"), Path.Combine(root, "own-file-name", "resnet50.onnx"));
        // Any batch in, but the output's batch fixed at 1.
        ModelFolder.WriteLinearWith(root, "output-batch-one", 3, b => b.AddOutput("logits", OnnxElementType.Float, 1, 3));
        // A label first, then the probabilities, as classifier exporters often lay them out.
        foreach (var (name, manifest) in new[] { ("label-first", null), ("label-first-named", """{ "author": "an exporter", "license": "MIT", "output": { "name": "probabilities" } }""") })
        {
            var weights = ModelFolder.WriteLinearWith(root, name, 3, b => b
                .AddNode("ArgMax", ["logits"], ["label"], OnnxAttribute.Int("axis", 1), OnnxAttribute.Int("keepdims", 0))
                .AddNode("Softmax", ["logits"], ["probabilities"], OnnxAttribute.Int("axis", 1))
                .AddOutput("label", OnnxElementType.Int64, "batch")
                .AddOutput("probabilities", OnnxElementType.Float, "batch", 3), manifestJson: manifest);
            if (manifest is not null)
            {
                _labelFirstWeights = weights;
            }
        }

        // A versioned model whose newest copy is broken, and one pinned to a version that is not there.
        _fallbackWeights = ModelFolder.WriteLinearVersion(root, "fallback", "1", seed: 1);
        Directory.CreateDirectory(Path.Combine(root, "fallback", "2"));
        File.WriteAllText(Path.Combine(root, "fallback", "2", "model.onnx"), "half-copied");
        ModelFolder.WriteLinearVersion(root, "pinned", "1", seed: 1);

        await _service.StartAsync("foreign", new Dictionary<string, string?> { ["Model:Versions:pinned"] = "9" });
    }

    public async Task DisposeAsync() => await _service.DisposeAsync();

    [Fact]
    public async Task AnImageWhoseOutputIsNotFiniteIsRefusedWith422StoringNothingAndTheModelKeepsServing()
    {
        using var client = _service.Factory.CreateClient();
        var bad = Swatches().First(n => MinLogit(_sqrtWeights, n) < -0.51);
        var good = Swatches().First(n => MinLogit(_sqrtWeights, n) > -0.49);
        var before = await CountRowsAsync();

        using (var refused = await client.PostAsync("/prediction?model=sqrt", TestImages.Form(ModelFolder.Swatch(bad))))
        {
            await ProblemAssert.AssertProblemAsync(refused, HttpStatusCode.UnprocessableEntity, "not finite");
        }

        Assert.Equal(before, await CountRowsAsync());

        // In a batch only that file is refused; the other is stored.
        using var form = new MultipartFormDataContent
        {
            { new ByteArrayContent(ModelFolder.Swatch(good)), "file", "good.png" },
            { new ByteArrayContent(ModelFolder.Swatch(bad)), "file", "bad.png" },
        };
        using (var batch = await client.PostAsync("/predictions/batch?model=sqrt", form))
        {
            Assert.Equal(HttpStatusCode.OK, batch.StatusCode);
            var items = (await batch.Content.ReadFromJsonAsync<JsonElement>()).EnumerateArray().ToArray();
            AssertSqrtAnswer(items[0], good);
            Assert.Equal(422, items[1].GetProperty("error").GetProperty("status").GetInt32());
        }

        Assert.Equal((before.Inputs + 1, before.Predictions + 1), await CountRowsAsync());
        using var answered = await client.PostAsync("/prediction?model=sqrt", TestImages.Form(ModelFolder.Swatch(good)));
        Assert.Equal(HttpStatusCode.OK, answered.StatusCode);
        AssertSqrtAnswer(await answered.Content.ReadFromJsonAsync<JsonElement>(), good);
    }

    [Fact]
    public async Task DeclaredProbabilitiesThatComeOutNegativeAreRefusedAsTheCallersInputNotA500()
    {
        using var client = _service.Factory.CreateClient();
        var bad = Swatches().First(n => MinLogit(_shiftedWeights, n) < -0.51);
        var before = await CountRowsAsync();

        using (var refused = await client.PostAsync("/prediction?model=shifted", TestImages.Form(ModelFolder.Swatch(bad))))
        {
            await ProblemAssert.AssertProblemAsync(refused, HttpStatusCode.UnprocessableEntity, "output.kind");
        }

        // The same tensor sent as it is over the Open Inference Protocol.
        var request = new { inputs = new[] { new { name = "pixels", shape = new[] { 1, 1, 4, 4 }, datatype = "FP32", data = ModelFolder.SwatchTensor(bad) } } };
        using (var tensor = await client.PostAsJsonAsync("/v2/models/shifted/infer", request))
        {
            Assert.Equal(HttpStatusCode.BadRequest, tensor.StatusCode);
            Assert.Contains("negative", (await tensor.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());
        }

        Assert.Equal(before, await CountRowsAsync());
    }

    [Theory]
    [InlineData("single-sigmoid", "one output per class")]
    [InlineData("double-output", "'scores' is float64; only float32 outputs are read")]
    [InlineData("uint8-input", "'image' is uint8; only float32 image inputs")]
    [InlineData("two-inputs", "has 2 inputs (pixels, temperature)")]
    [InlineData("batch-of-four", "fixed batch size of 4")]
    [InlineData("label-first", "outputs are label int64[-1], probabilities float32[-1, 3]: set output.name to the one with the class scores")]
    [InlineData("own-file-name", "it holds resnet50.onnx: rename the model to model.onnx, or name it in model.json's \"file\"")]
    [InlineData("huge", "at most 16777216 pixels")]
    [InlineData("misspelt", "'input.scale' is not a manifest key")]
    [InlineData("mean-without-standard", "apply only to input.scaling 'standard'")]
    [InlineData("labels-file-long", "model.json (labels from labels.txt): labels has 4 entries but the model outputs 3 classes")]
    public async Task AModelTheServiceCannotReadIsRefusedAtLoadSayingWhatToChange(string name, string reason)
    {
        using var client = _service.Factory.CreateClient();
        var model = await client.GetFromJsonAsync<JsonElement>($"/models/{name}");
        Assert.Equal("failed", model.GetProperty("state").GetString());
        Assert.Contains(reason, model.GetProperty("reason").GetString());

        using var refused = await client.PostAsync($"/prediction?model={name}", TestImages.Form(ModelFolder.Swatch(1)));
        await ProblemAssert.AssertProblemAsync(refused, HttpStatusCode.ServiceUnavailable, reason);
    }

    [Fact]
    public async Task LogitsThatHappenToSumToOneGoThroughSoftmaxLikeTheModelsOtherRows()
    {
        using var client = _service.Factory.CreateClient();
        var model = await client.GetFromJsonAsync<JsonElement>("/models/small-logits");
        Assert.Equal("logits", model.GetProperty("output").GetProperty("kind").GetString());

        foreach (var grey in new byte[] { 85, 200 })
        {
            using var response = await client.PostAsync("/prediction?model=small-logits", TestImages.Form(TestImages.PngGray8(4, 4, Enumerable.Repeat(grey, 16).ToArray())));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var prediction = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("prediction").EnumerateArray().Select(p => p.GetDouble()).ToArray();
            // 85 / 255 = 1/3: logits 1/3 and 2/3, which per row would have passed for probabilities as they are.
            var m = grey / 255.0;
            var expected1 = Math.Exp(2 * m) / (Math.Exp(m) + Math.Exp(2 * m));
            Assert.Equal(1 - expected1, prediction[0], 4);
            Assert.Equal(expected1, prediction[1], 4);
        }
    }

    [Fact]
    public async Task ClassNamesShippedAsLabelsTxtNameTheClasses()
    {
        using var client = _service.Factory.CreateClient();
        var model = await client.GetFromJsonAsync<JsonElement>("/models/labels-file");
        Assert.Equal(["cat", "dog", "bird"], model.GetProperty("labels").EnumerateArray().Select(l => l.GetString()));

        using var response = await client.PostAsync("/prediction?model=labels-file", TestImages.Form(ModelFolder.Swatch(2)));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var answer = await response.Content.ReadFromJsonAsync<JsonElement>();
        var logits = ModelFolder.Logits(_labelsFileWeights, 3, ModelFolder.SwatchTensor(2));
        var likely = Array.IndexOf(logits, logits.Max());
        Assert.Equal(likely, answer.GetProperty("likely_class").GetInt32());
        Assert.Equal(new[] { "cat", "dog", "bird" }[likely], answer.GetProperty("labels")[0].GetProperty("name").GetString());
    }

    [Fact]
    public async Task TheOutputNamedInTheManifestIsTheOneRead()
    {
        // Its manifest also carries top-level keys the service does not read (author, license): provenance, not a reason to refuse.
        using var client = _service.Factory.CreateClient();
        using var response = await client.PostAsync("/prediction?model=label-first-named", TestImages.Form(ModelFolder.Swatch(4)));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var prediction = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("prediction").EnumerateArray().Select(p => p.GetSingle()).ToArray();
        var expected = SyntheticModels.ExpectedProbabilities(_labelFirstWeights, 3, ModelFolder.SwatchTensor(4));
        Assert.Equal(3, prediction.Length);
        for (var c = 0; c < 3; c++)
        {
            Assert.Equal(expected[c], prediction[c], 4);
        }
    }

    [Fact]
    public async Task ABrokenHighestVersionAtStartIsListedAsFailedAndTheNextVersionDownServes()
    {
        using var client = _service.Factory.CreateClient();
        var model = await client.GetFromJsonAsync<JsonElement>("/models/fallback");
        Assert.Equal(("ready", "1"), (model.GetProperty("state").GetString(), model.GetProperty("version").GetString()));
        var versions = model.GetProperty("versions").EnumerateArray().ToArray();
        Assert.Equal([("1", "ready", true), ("2", "failed", false)],
            versions.Select(v => (v.GetProperty("version").GetString(), v.GetProperty("state").GetString(), v.GetProperty("serving").GetBoolean())));
        Assert.Contains("fallback/2/model.onnx", versions[1].GetProperty("reason").GetString());

        using var response = await client.PostAsync("/prediction?model=fallback", TestImages.Form(ModelFolder.Swatch(2)));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var answer = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("1", answer.GetProperty("model").GetProperty("version").GetString());
        var expected = SyntheticModels.ExpectedProbabilities(_fallbackWeights, 3, ModelFolder.SwatchTensor(2));
        var prediction = answer.GetProperty("prediction").EnumerateArray().Select(p => p.GetSingle()).ToArray();
        for (var c = 0; c < 3; c++)
        {
            Assert.Equal(expected[c], prediction[c], 4);
        }

        // An operator asking for the highest version gets its failure, not a silent fallback; 1 keeps serving.
        using var load = await client.PostAsync("/models/fallback/load", null);
        await ProblemAssert.AssertProblemAsync(load, HttpStatusCode.UnprocessableEntity, "fallback/2/model.onnx");
        Assert.Equal("1", (await client.GetFromJsonAsync<JsonElement>("/models/fallback")).GetProperty("version").GetString());
    }

    [Fact]
    public async Task APinToAVersionThatIsNotThereIsListedAsFailedWithTheReason()
    {
        using var client = _service.Factory.CreateClient();
        var model = await client.GetFromJsonAsync<JsonElement>("/models/pinned");
        Assert.Equal("failed", model.GetProperty("state").GetString());
        Assert.Contains("Model:Versions:pinned pins version '9'", model.GetProperty("reason").GetString());

        using var refused = await client.PostAsync("/prediction?model=pinned", TestImages.Form(ModelFolder.Swatch(1)));
        await ProblemAssert.AssertProblemAsync(refused, HttpStatusCode.ServiceUnavailable, "no version folder '9'");
    }

    [Fact]
    public async Task AModelWhoseOutputFixesTheBatchAtOneRefusesLargerTensorBatchesAsTheWrongShape()
    {
        using var client = _service.Factory.CreateClient();
        var data = ModelFolder.SwatchTensor(1).Concat(ModelFolder.SwatchTensor(2)).ToArray();
        var request = new { inputs = new[] { new { name = "pixels", shape = new[] { 2, 1, 4, 4 }, datatype = "FP32", data } } };

        using var response = await client.PostAsJsonAsync("/v2/models/output-batch-one/infer", request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("[1, 1, 4, 4]", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());
        using var one = await client.PostAsync("/prediction?model=output-batch-one", TestImages.Form(ModelFolder.Swatch(1)));
        Assert.Equal(HttpStatusCode.OK, one.StatusCode);
    }

    private static IEnumerable<int> Swatches() => Enumerable.Range(0, 200);

    private static double MinLogit(float[] weights, int swatch) => ModelFolder.Logits(weights, 3, ModelFolder.SwatchTensor(swatch)).Min();

    /// <summary>softmax(sqrt(W · x + 0.5)), computed here from the weights: what ONNX Runtime and the service must give.</summary>
    private void AssertSqrtAnswer(JsonElement answer, int swatch)
    {
        var scores = ModelFolder.Logits(_sqrtWeights, 3, ModelFolder.SwatchTensor(swatch)).Select(l => Math.Sqrt(l + 0.5)).ToArray();
        var exp = scores.Select(s => Math.Exp(s - scores.Max())).ToArray();
        var prediction = answer.GetProperty("prediction").EnumerateArray().Select(p => p.GetDouble()).ToArray();
        Assert.Equal(3, prediction.Length);
        for (var c = 0; c < 3; c++)
        {
            Assert.Equal(exp[c] / exp.Sum(), prediction[c], 4);
        }
    }

    private async Task<(long Inputs, long Predictions)> CountRowsAsync()
    {
        await using var connection = new NpgsqlConnection(_service.Database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT (SELECT count(*) FROM inputs), (SELECT count(*) FROM predictions)", connection);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetInt64(0), reader.GetInt64(1));
    }
}
