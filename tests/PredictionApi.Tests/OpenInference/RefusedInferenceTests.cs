using System.Net;
using System.Text;
using System.Text.Json;

namespace PredictionApi.Tests.OpenInference;

/// <summary>
/// Requests the protocol or the model refuses: each is answered with a 4xx (or 503) and {"error": "..."} saying what is
/// wrong, and stores nothing, also when only the last item of a batch is bad.
/// </summary>
public sealed class RefusedInferenceTests(OpenInferenceService service) : IClassFixture<OpenInferenceService>
{
    private readonly HttpClient _client = service.Factory.CreateClient();

    private static string Tensor(string shape, int count, string datatype = "FP32", string name = "input", string extra = "") =>
        $$"""{"inputs": [{"name": "{{name}}", "shape": {{shape}}, "datatype": "{{datatype}}", "data": [{{string.Join(",", Enumerable.Repeat("0", count))}}]}]{{extra}}}""";

    private static string Bytes(params string[] elements) =>
        JsonSerializer.Serialize(new { inputs = new[] { new { name = "input", shape = new[] { elements.Length }, datatype = "BYTES", data = elements } } });

    public static TheoryData<string, string, HttpStatusCode, string> Refused => new()
    {
        { "/v2/models/nope/infer", Tensor("[1, 1, 28, 28]", 784), HttpStatusCode.NotFound, "There is no model 'nope'" },
        { "/v2/models/nope/versions/1/infer", Tensor("[1, 1, 28, 28]", 784), HttpStatusCode.NotFound, "There is no model 'nope'" },
        { "/v2/models/broken/infer", Tensor("[1, 1, 28, 28]", 784), HttpStatusCode.ServiceUnavailable, "The model 'broken' is failed" },
        { "/v2/models/mnist/infer", Tensor("[1, 28, 28]", 784), HttpStatusCode.BadRequest, "has shape [1, 28, 28] but the model takes FP32 [-1, 1, 28, 28]" },
        { "/v2/models/mnist/infer", Tensor("[1, 1, 28, 27]", 756), HttpStatusCode.BadRequest, "has shape [1, 1, 28, 27] but the model takes FP32 [-1, 1, 28, 28]" },
        { "/v2/models/mnist/infer", Tensor("[1, 28, 28, 1]", 784), HttpStatusCode.BadRequest, "(NCHW; -1 is the batch size)" },
        { "/v2/models/mnist/infer", Tensor("[2, 1, 28, 28]", 784), HttpStatusCode.BadRequest, "holds 784 elements but shape [2, 1, 28, 28] has 1568" },
        { "/v2/models/mnist/infer", Tensor("[1, 1, 28, 28]", 785), HttpStatusCode.BadRequest, "holds 785 elements but shape [1, 1, 28, 28] has 784" },
        { "/v2/models/mnist/infer", Tensor("[0, 1, 28, 28]", 0), HttpStatusCode.BadRequest, "has a batch of 0" },
        { "/v2/models/mnist/infer", Tensor("[65, 1, 28, 28]", 0), HttpStatusCode.RequestEntityTooLarge, "at most 64 items" },
        { "/v2/models/mnist/infer", Tensor("[1, -1, 28, 28]", 784), HttpStatusCode.BadRequest, "dimensions are sizes" },
        { "/v2/models/mnist/infer", Tensor("[1, 1, 28, 28]", 784, datatype: "INT32"), HttpStatusCode.BadRequest, "inputs[0] is INT32; the model takes FP32" },
        { "/v2/models/mnist/infer", Tensor("[1, 1, 28, 28]", 784, datatype: "FP64"), HttpStatusCode.BadRequest, "inputs[0] is FP64" },
        { "/v2/models/mnist/infer", Tensor("[1, 1, 28, 28]", 784, datatype: "fp32"), HttpStatusCode.BadRequest, "'fp32', which is not one of the protocol's" },
        { "/v2/models/mnist/infer", Tensor("[1, 1, 28, 28]", 784, name: "image"), HttpStatusCode.BadRequest, "is named 'image' but the model's input is 'input'" },
        { "/v2/models/mnist/infer", Tensor("[1, 1, 28, 28]", 784, extra: """, "outputs": [{"name": "logits"}]"""), HttpStatusCode.BadRequest, "names 'logits', which this model does not produce" },
        { "/v2/models/mnist/infer", Tensor("[1, 1, 28, 28]", 784, extra: """, "outputs": [{"name": "label"}, {"name": "label"}]"""), HttpStatusCode.BadRequest, "a second time" },
        { "/v2/models/mnist/infer", Tensor("[1, 1, 28, 28]", 784, extra: """, "outputs": [{"name": "label", "parameters": {"binary_data": true}}]"""), HttpStatusCode.BadRequest, "Binary output data" },
        { "/v2/models/mnist/infer", Tensor("[1, 1, 28, 28]", 784, extra: """, "parameters": {"binary_data_output": true}"""), HttpStatusCode.BadRequest, "Binary output data" },
        // Triton clients' class_count: the answer would be top-k strings of another shape, not plain labels.
        { "/v2/models/mnist/infer", Tensor("[1, 1, 28, 28]", 784, extra: """, "outputs": [{"name": "label", "parameters": {"classification": 3}}]"""), HttpStatusCode.BadRequest, "outputs[0] asks for the classification extension" },
        { "/v2/models/mnist/infer", Tensor("[1, 1, 28, 28]", 784, extra: """, "outputs": [{"name": "probabilities"}, {"name": "label", "parameters": {"classification": "2"}}]"""), HttpStatusCode.BadRequest, "outputs[1] asks for the classification extension" },
        { "/v2/models/mnist/infer", $$"""{"inputs": [{"name": "input", "shape": [1, 1, 28, 28], "datatype": "FP32", "data": [1, 2, "3"{{string.Concat(Enumerable.Repeat(", 0", 781))}}]}]}""", HttpStatusCode.BadRequest, "element 2 is a string" },
        { "/v2/models/mnist/infer", $$"""{"inputs": [{"name": "input", "shape": [1, 1, 28, 28], "datatype": "FP32", "data": [1e39{{string.Concat(Enumerable.Repeat(", 0", 783))}}]}]}""", HttpStatusCode.BadRequest, "within float32's range" },
        { "/v2/models/mnist/infer", """{"inputs": [{"name": "input", "shape": [1, 1, 2, 2], "datatype": "FP32", "data": [[[1, 2], [3, 4]]]}]}""", HttpStatusCode.BadRequest, "has shape [1, 1, 2, 2]" },
        { "/v2/models/mnist/infer", $$"""{"inputs": [{"name": "input", "shape": [1, 1, 28, 28], "datatype": "FP32", "data": [[[{{string.Join(",", Enumerable.Repeat("[0]", 28))}}]]]}]}""", HttpStatusCode.BadRequest, "at depth 3 it must hold arrays of 28 as shape [1, 1, 28, 28] says, but it holds an array of 1" },
        { "/v2/models/mnist/infer", """{"inputs": [{"name": "input", "shape": [1, 1, 28, 28], "datatype": "FP32"}]}""", HttpStatusCode.BadRequest, "inputs[0] has no data" },
        { "/v2/models/mnist/infer", """{"inputs": []}""", HttpStatusCode.BadRequest, "The request has no inputs" },
        { "/v2/models/mnist/infer", """{"id": "x"}""", HttpStatusCode.BadRequest, "The request has no inputs" },
        { "/v2/models/mnist/infer", """{"inputs": [{"name": "input", "shape": [1], "datatype": "BYTES", "data": ["AA=="]}, {"name": "input", "shape": [1], "datatype": "BYTES", "data": ["AA=="]}]}""", HttpStatusCode.BadRequest, "has 2 inputs but the model takes one" },
        { "/v2/models/mnist/infer", """{"id": 42, "inputs": []}""", HttpStatusCode.BadRequest, "malformed JSON, a field of the wrong type, or a field named twice, at $.id" },
        // A name given twice is refused, not read as its last value: a proxy that checked the first must not be overruled.
        { "/v2/models/mnist/infer", $$"""{"inputs": [], "inputs": [{"name": "input", "shape": [1], "datatype": "BYTES", "data": ["{{Convert.ToBase64String(Mnist.Png(0))}}"]}]}""", HttpStatusCode.BadRequest, "a field named twice, at $.inputs" },
        { "/v2/models/mnist/infer", $$"""{"inputs": [{"name": "input", "shape": [1], "datatype": "BYTES", "datatype": "FP32", "data": ["{{Convert.ToBase64String(Mnist.Png(0))}}"]}]}""", HttpStatusCode.BadRequest, "a field named twice, at $.inputs[0].datatype" },
        { "/v2/models/mnist/infer", $$"""{"id": "a", "id": "b", "inputs": [{"name": "input", "shape": [1], "datatype": "BYTES", "data": ["{{Convert.ToBase64String(Mnist.Png(0))}}"]}]}""", HttpStatusCode.BadRequest, "a field named twice, at $.id" },
        { "/v2/models/mnist/infer", """{"inputs": [{"name": "input", "shape": [1, 1, 28, 28], "datatype": "FP32", "data": [0, 0""", HttpStatusCode.BadRequest, "malformed JSON" },
        { "/v2/models/mnist/infer", "[]", HttpStatusCode.BadRequest, "malformed JSON" },
        { "/v2/models/mnist/infer", "", HttpStatusCode.BadRequest, "malformed JSON" },
        { "/v2/models/mnist/infer", Bytes("this is not base64!"), HttpStatusCode.BadRequest, "inputs[0].data element 0 is not base64" },
        { "/v2/models/mnist/infer", Bytes(""), HttpStatusCode.BadRequest, "inputs[0].data element 0 is empty" },
        { "/v2/models/mnist/infer", Bytes(Convert.ToBase64String("just some notes"u8.ToArray())), HttpStatusCode.BadRequest, "inputs[0].data element 0: The file is not an image" },
        { "/v2/models/mnist/infer", Bytes(Convert.ToBase64String(Mnist.Png(0)), Convert.ToBase64String(Mnist.Png(1)[..60])), HttpStatusCode.BadRequest, "inputs[0].data element 1:" },
        { "/v2/models/mnist/infer", """{"inputs": [{"name": "input", "shape": [1], "datatype": "BYTES", "parameters": {"content_type": "str"}, "data": ["AA=="]}]}""", HttpStatusCode.BadRequest, "BYTES inputs are read as 'base64' only" },
        { "/v2/models/mnist/infer", """{"inputs": [{"name": "input", "shape": [1, 2], "datatype": "BYTES", "data": ["AA==", "AA=="]}]}""", HttpStatusCode.BadRequest, "images are sent as shape [batch]" },
        { "/v2/models/mnist/infer", """{"inputs": [{"name": "input", "shape": [1], "datatype": "BYTES", "data": [7]}]}""", HttpStatusCode.BadRequest, "element 0 is the number 7; BYTES data holds strings" },
        // Finite inputs far outside what the model was made for overflow its logits: nothing to store, and said so.
        { "/v2/models/mnist/infer", $$"""{"inputs": [{"name": "input", "shape": [1, 1, 28, 28], "datatype": "FP32", "data": [{{string.Join(",", Enumerable.Repeat("3.4e38", 784))}}]}]}""", HttpStatusCode.BadRequest, "not finite" },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public async Task ARefusedInferenceIsAnErrorObjectAndStoresNothing(string path, string json, HttpStatusCode status, string contains)
    {
        var before = await service.CountRowsAsync();
        using var response = await OpenInferenceService.PostJsonAsync(_client, path, json);
        await V2Assert.ErrorAsync(response, status, contains);
        Assert.Equal(before, await service.CountRowsAsync());
    }

    [Fact]
    public async Task EveryStatusARefusalAnswersIsDeclaredInTheOpenApiDocument()
    {
        var document = await OpenInferenceService.GetJsonAsync(_client, "/openapi/v1.json");
        foreach (var template in new[] { "/v2/models/{model}/infer", "/v2/models/{model}/versions/{version}/infer" })
        {
            var responses = document.GetProperty("paths").GetProperty(template).GetProperty("post").GetProperty("responses");
            foreach (var status in Refused.Select(row => (int)(HttpStatusCode)row[2]).Append(415).Append(200).Distinct())
            {
                Assert.True(responses.TryGetProperty(status.ToString(), out var declared), $"POST {template} answers {status}, which the document does not declare");
                Assert.True(declared.GetProperty("content").TryGetProperty("application/json", out _));
            }
        }
    }

    [Fact]
    public async Task ABodyThatIsNotJsonIs415NamingWhatTheEndpointTakes()
    {
        using var response = await _client.PostAsync("/v2/models/mnist/infer", new StringContent("inputs", Encoding.UTF8, "text/plain"));
        await V2Assert.ErrorAsync(response, HttpStatusCode.UnsupportedMediaType, "takes application/json");
    }

    [Fact]
    public async Task AnUnknownModelsErrorListsOnlyTheModelsThatServe()
    {
        using var response = await _client.PostAsync("/v2/models/nope/infer", new StringContent(Tensor("[1, 1, 28, 28]", 784), Encoding.UTF8, "application/json"));

        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("Served: mnist", text);
        // "broken" failed to load: naming it would send the caller to a model that cannot answer.
        Assert.DoesNotContain("broken", text);
    }

    [Fact]
    public async Task ABinaryExtensionBodyIsRefusedNamingTheExtension()
    {
        // The JSON part, then raw little-endian floats, as the binary data extension sends them.
        var json = """{"inputs": [{"name": "input", "shape": [1, 1, 28, 28], "datatype": "FP32", "parameters": {"binary_data_size": 3136}}]}""";
        var body = Encoding.UTF8.GetBytes(json).Concat(new byte[3136]).ToArray();
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v2/models/mnist/infer") { Content = content };
        request.Headers.Add("Inference-Header-Content-Length", json.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));

        using var response = await _client.SendAsync(request);

        await V2Assert.ErrorAsync(response, HttpStatusCode.BadRequest, "binary data extension (Inference-Header-Content-Length) is not supported");
    }

    [Fact]
    public async Task AWrongMethodIs405AsAnErrorObject()
    {
        using var response = await _client.GetAsync("/v2/models/mnist/infer");
        await V2Assert.ErrorAsync(response, HttpStatusCode.MethodNotAllowed, "'GET' is not allowed");
    }
}
