using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using PredictionApi.Onnx;

namespace PredictionApi.Tests.Models;

/// <summary>
/// Grayscale models whose input has no channel axis ([batch, height, width], a Keras model that starts with Flatten) or is
/// flattened ([batch, values], a dense or sklearn model): served with the answers ONNX Runtime gives for the same tensor.
/// </summary>
public sealed class UnchannelledInputTests : IAsyncLifetime
{
    private readonly ModelsService _service = new();

    public async Task InitializeAsync()
    {
        var root = _service.Folder;
        // As tf2onnx writes a Keras model: unk__ dimensions, softmax inside, no manifest.
        ModelFolder.WriteLinearWith(root, "keras-flatten", 3, b => b
            .AddNode("Softmax", ["logits"], ["dense"], OnnxAttribute.Int("axis", 1))
            .AddOutput("dense", OnnxElementType.Float, "unk__7", 3), inputShape: ["unk__6", 4, 4]);
        // A dense model over 16 values: logits, and the image size in its manifest.
        ModelFolder.WriteLinearWith(root, "flat", 3, b => b.AddOutput("logits", OnnxElementType.Float, "N", 3),
            manifestJson: """{ "input": { "height": 4, "width": 4 } }""", inputShape: ["N", 16]);
        await _service.StartAsync("unchannelled");
    }

    public async Task DisposeAsync() => await _service.DisposeAsync();

    [Theory]
    [InlineData("keras-flatten", new long[] { 4, 4 })]
    [InlineData("flat", new long[] { 16 })]
    public async Task AnUploadIsAnsweredAsOnnxRuntimeAnswersItsTensor(string name, long[] itemShape)
    {
        using var client = _service.Factory.CreateClient();
        using var response = await client.PostAsync($"/prediction?model={name}&include=tensor", TestImages.Form(ModelFolder.Swatch(3)));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        var tensor = body.GetProperty("tensor").GetProperty("data").EnumerateArray().Select(v => v.GetSingle()).ToArray();
        Assert.Equal(ModelFolder.SwatchTensor(3), tensor);
        var expected = Offline(name, tensor, [1, .. itemShape]);
        var prediction = body.GetProperty("prediction").EnumerateArray().Select(p => p.GetSingle()).ToArray();
        Assert.Equal(expected.Length, prediction.Length);
        for (var c = 0; c < expected.Length; c++)
        {
            Assert.Equal(expected[c], prediction[c], 6);
        }
    }

    [Theory]
    [InlineData("keras-flatten", new long[] { 4, 4 })]
    [InlineData("flat", new long[] { 16 })]
    public async Task ATensorBatchInTheModelsOwnShapeIsAnsweredAsOnnxRuntimeAnswersIt(string name, long[] itemShape)
    {
        using var client = _service.Factory.CreateClient();
        var metadata = await client.GetFromJsonAsync<JsonElement>($"/v2/models/{name}");
        Assert.Equal([-1, .. itemShape], metadata.GetProperty("inputs")[0].GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()));

        var data = ModelFolder.SwatchTensor(1).Concat(ModelFolder.SwatchTensor(2)).ToArray();
        var inputName = metadata.GetProperty("inputs")[0].GetProperty("name").GetString();
        long[] shape = [2, .. itemShape];
        var request = new { inputs = new[] { new { name = inputName, shape, datatype = "FP32", data } } };
        using var response = await client.PostAsJsonAsync($"/v2/models/{name}/infer", request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var output = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("outputs").EnumerateArray()
            .First(o => o.GetProperty("name").GetString() == "probabilities");
        var probabilities = output.GetProperty("data").EnumerateArray().Select(p => p.GetSingle()).ToArray();
        var expected = Offline(name, data, [2, .. itemShape]);
        Assert.Equal(expected.Length, probabilities.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i], probabilities[i], 6);
        }
    }

    /// <summary>The model run on <paramref name="tensor"/> by ONNX Runtime directly, as probabilities (softmax over logits).</summary>
    private float[] Offline(string name, float[] tensor, long[] shape)
    {
        using var session = new InferenceSession(Path.Combine(_service.Folder, name, "model.onnx"));
        using var input = OrtValue.CreateTensorValueFromMemory(tensor, shape);
        using var outputs = session.Run(new RunOptions(), [session.InputNames[0]], [input], session.OutputNames);
        var raw = outputs[0].GetTensorDataAsSpan<float>().ToArray();
        if (name == "keras-flatten")
        {
            return raw;
        }

        var rows = new float[raw.Length];
        for (var r = 0; r < raw.Length / 3; r++)
        {
            var row = raw.AsSpan(r * 3, 3);
            var max = row.ToArray().Max();
            var sum = row.ToArray().Sum(v => Math.Exp(v - (double)max));
            for (var c = 0; c < 3; c++)
            {
                rows[r * 3 + c] = (float)(Math.Exp(row[c] - (double)max) / sum);
            }
        }

        return rows;
    }
}
