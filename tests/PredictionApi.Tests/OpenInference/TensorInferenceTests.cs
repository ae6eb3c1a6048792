using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace PredictionApi.Tests.OpenInference;

/// <summary>
/// FP32 tensors already shaped for the model: classified as ONNX Runtime classifies the same tensor offline, each batch item
/// stored as an input whose bytes are the item's float32 values, read back bit for bit, and listed, shown and deleted
/// like any stored prediction.
/// </summary>
public sealed class TensorInferenceTests(OpenInferenceService service) : IClassFixture<OpenInferenceService>
{
    private const int Pixels = 28 * 28;
    private const string TensorType = "application/x-tensor;dtype=float32;shape=1x1x28x28";
    private readonly HttpClient _client = service.Factory.CreateClient();

    /// <summary>MNIST test digits <paramref name="indices"/> as one NCHW batch, pixel / 255.</summary>
    private static float[] Digits(params int[] indices) =>
        indices.SelectMany(i => Mnist.Images.Image(i).ToArray().Select(p => p / 255f)).ToArray();

    private static object Request(float[] data, int batch, string? id = null, object? outputs = null) => new Dictionary<string, object?>
    {
        ["id"] = id,
        ["inputs"] = new[] { new { name = "input", shape = new[] { batch, 1, 28, 28 }, datatype = "FP32", data } },
        ["outputs"] = outputs,
    }.Where(p => p.Value is not null).ToDictionary();

    [Fact]
    public async Task ABatchOfTwoDigitsIsClassifiedAsOnnxRuntimeDoesOfflineAndBothAreStored()
    {
        var tensor = Digits(0, 1);
        var before = await service.CountRowsAsync();

        var answer = await OpenInferenceService.InferAsync(_client, "/v2/models/mnist/infer", Request(tensor, 2, id: "batch-of-two"));

        Assert.Equal("mnist", answer.GetProperty("model_name").GetString());
        Assert.Equal("2.0.0", answer.GetProperty("model_version").GetString());
        Assert.Equal("batch-of-two", answer.GetProperty("id").GetString());
        var probabilities = OpenInferenceService.Output(answer, "probabilities");
        Assert.Equal("FP32", probabilities.GetProperty("datatype").GetString());
        Assert.Equal([2L, 10L], probabilities.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()));
        var reported = probabilities.GetProperty("data").EnumerateArray().Select(v => v.GetSingle()).ToArray();

        var expected = Offline(service.MnistOnnx, tensor, 2);
        Assert.Equal(20, reported.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i], reported[i], 1e-6f);
        }

        // The label output is the most probable class's name, per item: the first two test digits are a 7 and a 2.
        var label = OpenInferenceService.Output(answer, "label");
        Assert.Equal(("BYTES", "2"), (label.GetProperty("datatype").GetString(), string.Join(",", label.GetProperty("shape").EnumerateArray())));
        Assert.Equal(["7", "2"], label.GetProperty("data").EnumerateArray().Select(l => l.GetString()));
        Assert.Equal([Mnist.Labels[0].ToString(), Mnist.Labels[1].ToString()], label.GetProperty("data").EnumerateArray().Select(l => l.GetString()));

        // Both items are stored, each as its own input with its prediction, as the ids in parameters say.
        var ids = OpenInferenceService.PredictionIds(answer);
        Assert.Equal(2, ids.Length);
        Assert.Equal((before.Inputs + 2, before.Predictions + 2), await service.CountRowsAsync());
        for (var item = 0; item < 2; item++)
        {
            var stored = await OpenInferenceService.GetJsonAsync(_client, $"/prediction/{ids[item]}");
            Assert.Equal(reported[(item * 10)..((item + 1) * 10)], stored.GetProperty("prediction").EnumerateArray().Select(p => p.GetSingle()));
            Assert.Equal(("mnist", "2.0.0"), (stored.GetProperty("model").GetProperty("name").GetString(), stored.GetProperty("model").GetProperty("version").GetString()));
            Assert.Equal($"batch-of-two input[{item}]", stored.GetProperty("filename").GetString());
        }

        var inputIds = answer.GetProperty("parameters").GetProperty("input_ids").GetString()!.Split(',');
        Assert.Equal(2, inputIds.Distinct().Count());
    }

    [Fact]
    public async Task AStoredTensorReadsBackBitForBit()
    {
        // Values a JSON round trip could bend: the smallest normal and a subnormal float32, negative, many digits.
        var tensor = Digits(2);
        tensor[0] = 1.17549435E-38f;
        tensor[1] = -0.1f;
        tensor[2] = 1234.5677f;
        tensor[3] = 0.333333343f;
        tensor[4] = 1e-45f;
        var answer = await OpenInferenceService.InferAsync(_client, "/v2/models/mnist/infer", Request(tensor, 1));
        var id = OpenInferenceService.PredictionIds(answer).Single();

        using var image = await _client.GetAsync($"/prediction/{id}/image");
        Assert.Equal(HttpStatusCode.OK, image.StatusCode);
        Assert.Equal(TensorType, image.Content.Headers.ContentType?.ToString().Replace(" ", ""));
        var bytes = await image.Content.ReadAsByteArrayAsync();
        Assert.Equal(Pixels * 4, bytes.Length);
        var readBack = Enumerable.Range(0, Pixels).Select(i => BitConverter.ToInt32(bytes, i * 4)).ToArray();
        Assert.Equal(tensor.Select(BitConverter.SingleToInt32Bits), readBack);
        Assert.True(BitConverter.IsLittleEndian);

        var row = await service.StoredAsync(id);
        Assert.Equal((TensorType, 28, 28, Pixels * 4), (row.ContentType, row.Width, row.Height, row.ByteSize));
        Assert.Equal(SHA256.HashData(bytes), row.Sha256);
    }

    [Fact]
    public async Task NestedDataIsReadAsTheSameTensorAsFlatData()
    {
        var tensor = Digits(3, 4);
        var nested = Enumerable.Range(0, 2).Select(n => new[] { Enumerable.Range(0, 28).Select(y => tensor.AsSpan(n * Pixels + y * 28, 28).ToArray()).ToArray() }).ToArray();
        var flat = await OpenInferenceService.InferAsync(_client, "/v2/models/mnist/infer", Request(tensor, 2));
        var fromNested = await OpenInferenceService.InferAsync(_client, "/v2/models/mnist/infer", new
        {
            inputs = new[] { new { name = "input", shape = new[] { 2, 1, 28, 28 }, datatype = "FP32", data = nested } },
        });

        Assert.Equal(OpenInferenceService.Output(flat, "probabilities").GetProperty("data").GetRawText(),
            OpenInferenceService.Output(fromNested, "probabilities").GetProperty("data").GetRawText());
        // Stored as the same bytes: the same sha256 for each item.
        var a = OpenInferenceService.PredictionIds(flat);
        var b = OpenInferenceService.PredictionIds(fromNested);
        for (var i = 0; i < 2; i++)
        {
            Assert.Equal((await service.StoredAsync(a[i])).Sha256, (await service.StoredAsync(b[i])).Sha256);
        }
    }

    [Fact]
    public async Task WithoutAnIdTheAnswerHasNoIdAndOutputsAreTheOnesAskedForInTheirOrder()
    {
        var answer = await OpenInferenceService.InferAsync(_client, "/v2/models/mnist/infer",
            Request(Digits(5), 1, outputs: new[] { new { name = "label" }, new { name = "probabilities" } }));
        Assert.False(answer.TryGetProperty("id", out _));
        Assert.Equal(["label", "probabilities"], answer.GetProperty("outputs").EnumerateArray().Select(o => o.GetProperty("name").GetString()));

        var onlyLabel = await OpenInferenceService.InferAsync(_client, "/v2/models/mnist/infer", Request(Digits(5), 1, outputs: new[] { new { name = "label" } }));
        Assert.Equal(["label"], onlyLabel.GetProperty("outputs").EnumerateArray().Select(o => o.GetProperty("name").GetString()));
        Assert.Equal([Mnist.Labels[5].ToString()], OpenInferenceService.Output(onlyLabel, "label").GetProperty("data").EnumerateArray().Select(l => l.GetString()));
    }

    [Fact]
    public async Task ATensorInputIsListedShownAsADataUrlAndDeletedLikeAnyOther()
    {
        var tensor = Digits(6);
        var id = OpenInferenceService.PredictionIds(await OpenInferenceService.InferAsync(_client, "/v2/models/mnist/infer", Request(tensor, 1, id: "ledger"))).Single();

        var listed = await _client.GetFromJsonAsync<JsonElement>("/predictions?limit=500&fields=filename,contenttype,likely_class");
        var item = listed.GetProperty("items").EnumerateArray().Single(i => i.GetProperty("prediction_id").GetInt64() == id);
        Assert.Equal(("ledger input[0]", TensorType), (item.GetProperty("filename").GetString(), item.GetProperty("contenttype").GetString()));
        using (var withImages = await _client.GetAsync("/predictions?limit=500&fields=*,image"))
        {
            Assert.Equal(HttpStatusCode.OK, withImages.StatusCode);
        }

        var stored = await OpenInferenceService.GetJsonAsync(_client, $"/prediction/{id}");
        var url = stored.GetProperty("image").GetString()!;
        Assert.StartsWith($"data:{TensorType};base64,", url);
        var bytes = Convert.FromBase64String(url[(url.IndexOf(',') + 1)..]);
        Assert.Equal(tensor.Select(BitConverter.SingleToInt32Bits), Enumerable.Range(0, Pixels).Select(i => BitConverter.ToInt32(bytes, i * 4)));

        // The page's gallery asks for the bytes; they come with their own type and are never sniffed as something else.
        using (var raw = await _client.GetAsync($"/prediction/{id}/image"))
        {
            Assert.Equal("nosniff", raw.Headers.GetValues("X-Content-Type-Options").Single());
        }

        using (var deleted = await _client.DeleteAsync($"/prediction/{id}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }

        using var gone = await _client.GetAsync($"/prediction/{id}/image");
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    /// <summary>ONNX Runtime's own session on the [batch, 1, 28, 28] tensor, softmax applied to its logits.</summary>
    private static float[] Offline(string onnx, float[] tensor, int batch)
    {
        using var session = new InferenceSession(onnx);
        var input = session.InputMetadata.Keys.First();
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(input, new DenseTensor<float>(tensor, [batch, 1, 28, 28]))]);
        var logits = results.First().AsEnumerable<float>().ToArray();
        var classes = logits.Length / batch;
        return Enumerable.Range(0, batch).SelectMany(b =>
        {
            var row = logits.AsSpan(b * classes, classes).ToArray();
            var max = row.Max();
            var exp = row.Select(l => Math.Exp(l - max)).ToArray();
            var sum = exp.Sum();
            return exp.Select(e => (float)(e / sum));
        }).ToArray();
    }
}
