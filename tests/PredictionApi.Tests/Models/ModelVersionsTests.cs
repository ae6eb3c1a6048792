using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace PredictionApi.Tests.Models;

/// <summary>A versioned model folder (models/name/version/), and loading and unloading versions while the service runs.</summary>
public sealed class ModelVersionsTests : IAsyncLifetime
{
    private readonly ModelsService _service = ModelsService.WithGreyVersions(2, 10);

    public async Task InitializeAsync()
    {
        await _service.StartAsync("versions");
    }

    public async Task DisposeAsync() => await _service.DisposeAsync();

    [Fact]
    public async Task TheHighestVersionServesAndTheOthersAreListed()
    {
        using var client = _service.Factory.CreateClient();
        var grey = await client.GetFromJsonAsync<JsonElement>("/models/grey");
        // 10 is higher than 2: versions compare as numbers.
        Assert.Equal("10", grey.GetProperty("version").GetString());
        Assert.Equal([("2", "unloaded", false), ("10", "ready", true)], Versions(grey));
        var answer = await PostAsync(client, "grey", 3);
        AssertAnsweredBy(answer, "10", 3);
    }

    [Fact]
    public async Task LoadingAVersionSwapsItInAndAnExplicitVersionIsServedOnlyWhileLoaded()
    {
        using var client = _service.Factory.CreateClient();
        using (var load = await client.PostAsync("/models/grey/load?version=2", null))
        {
            Assert.Equal(HttpStatusCode.OK, load.StatusCode);
            var info = await load.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal([("2", "ready", true), ("10", "unloaded", false)], Versions(info));
        }

        AssertAnsweredBy(await PostAsync(client, "grey", 5), "2", 5);
        using (var gone = await client.PostAsync("/prediction?model=grey&version=10", TestImages.Form(ModelFolder.Swatch(5))))
        {
            await ProblemAssert.AssertProblemAsync(gone, HttpStatusCode.NotFound, "POST /models/grey/load?version=10");
        }

        // Loaded without serving: reachable by version, while 2 keeps the traffic.
        using (var side = await client.PostAsync("/models/grey/load?version=10&serve=false", null))
        {
            Assert.Equal(HttpStatusCode.OK, side.StatusCode);
        }

        AssertAnsweredBy(await PostAsync(client, "grey", 6, "&version=10"), "10", 6);
        AssertAnsweredBy(await PostAsync(client, "grey", 6), "2", 6);
    }

    [Fact]
    public async Task AVersionThatFailsToLoadLeavesTheServingOneUntouchedAndSaysWhy()
    {
        using var client = _service.Factory.CreateClient();
        var folder = Path.Combine(_service.Folder, "grey", "11");
        Directory.CreateDirectory(folder);
        File.Copy(Path.Combine(_service.Folder, "grey", "10", "model.onnx"), Path.Combine(folder, "model.onnx"));
        File.WriteAllText(Path.Combine(folder, "model.json"), """{ "sha256": "0000000000000000000000000000000000000000000000000000000000000000" }""");

        using var load = await client.PostAsync("/models/grey/load", null);

        await AssertFailedWhileTenServesAsync(client, load, "11", "sha256", "sha256");
    }

    [Fact]
    public async Task AVersionWhoseOutputCannotBeUsedFailsToLoadInsteadOfStayingLoading()
    {
        using var client = _service.Factory.CreateClient();
        // Logits declared as probabilities: the warm-up's all-zero input gives an all-zero row, which no request could use.
        SyntheticModels.WriteLinear(Path.Combine(_service.Folder, "grey"), "12", ["batch", 1, 4, 4], classes: 3, probabilities: false,
            manifestJson: """{ "name": "grey", "labels": ["low", "middle", "high"], "output": { "kind": "probabilities" } }""");

        using var load = await client.PostAsync("/models/grey/load?version=12", null);

        await AssertFailedWhileTenServesAsync(client, load, "12", "output.kind", "warm-up");
    }

    /// <summary>A load of <paramref name="version"/> was a 422 naming the cause, the version is listed as failed, and 10 still answers.</summary>
    private async Task AssertFailedWhileTenServesAsync(HttpClient client, HttpResponseMessage load, string version, string detail, string reason)
    {
        await ProblemAssert.AssertProblemAsync(load, HttpStatusCode.UnprocessableEntity, detail);
        var grey = await client.GetFromJsonAsync<JsonElement>("/models/grey");
        Assert.Equal(("ready", "10"), (grey.GetProperty("state").GetString(), grey.GetProperty("version").GetString()));
        var failed = grey.GetProperty("versions").EnumerateArray().Single(v => v.GetProperty("version").GetString() == version);
        Assert.Equal("failed", failed.GetProperty("state").GetString());
        Assert.Contains(reason, failed.GetProperty("reason").GetString());
        AssertAnsweredBy(await PostAsync(client, "grey", 7), "10", 7);
    }

    [Fact]
    public async Task AModelCannotTakeTheNameOfTheComparisonRoute()
    {
        using var client = _service.Factory.CreateClient();
        ModelFolder.WriteLinearVersion(_service.Folder, "compare", "1", seed: 3);

        using var load = await client.PostAsync("/models/compare/load", null);

        await ProblemAssert.AssertProblemAsync(load, HttpStatusCode.UnprocessableEntity, "cannot be named 'compare'");
        var models = await client.GetFromJsonAsync<JsonElement>("/models");
        Assert.Contains(models.EnumerateArray(), m => m.GetProperty("name").GetString() == "compare" && m.GetProperty("state").GetString() == "failed");
    }

    [Fact]
    public async Task AnUnloadedModelIsUnavailableUntilLoadedAgain()
    {
        using var client = _service.Factory.CreateClient();
        // A misspelt version would have unloaded every version: it is refused, and the model keeps serving.
        using (var misspelt = await client.PostAsync("/models/grey/unload?verison=1", null))
        {
            await ProblemAssert.AssertProblemAsync(misspelt, HttpStatusCode.BadRequest, "'verison' is not a parameter of POST /models/grey/unload");
            Assert.Equal("ready", (await client.GetFromJsonAsync<JsonElement>("/models/grey")).GetProperty("state").GetString());
        }

        using (var unload = await client.PostAsync("/models/grey/unload", null))
        {
            Assert.Equal("unloaded", (await unload.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("state").GetString());
        }

        using (var refused = await client.PostAsync("/prediction?model=grey", TestImages.Form(ModelFolder.Swatch(1))))
        {
            await ProblemAssert.AssertProblemAsync(refused, HttpStatusCode.ServiceUnavailable, "unloaded");
        }

        // The other models are not affected.
        using (var digit = await client.PostAsync("/prediction", TestImages.Form(Mnist.Png(2))))
        {
            Assert.Equal(HttpStatusCode.OK, digit.StatusCode);
        }

        using (var load = await client.PostAsync("/models/grey/load", null))
        {
            Assert.Equal(HttpStatusCode.OK, load.StatusCode);
        }

        AssertAnsweredBy(await PostAsync(client, "grey", 1), "10", 1);
    }

    [Theory]
    [InlineData("/models/nope/load", HttpStatusCode.NotFound)]
    [InlineData("/models/grey/load?version=3", HttpStatusCode.NotFound)]
    [InlineData("/models/grey/load?serve=maybe", HttpStatusCode.BadRequest)]
    [InlineData("/models/grey/unload?version=3", HttpStatusCode.NotFound)]
    public async Task BadLoadsAndUnloadsAreProblems(string path, HttpStatusCode status)
    {
        using var client = _service.Factory.CreateClient();
        using var response = await client.PostAsync(path, null);
        await ProblemAssert.AssertProblemAsync(response, status);
        AssertAnsweredBy(await PostAsync(client, "grey", 2), "10", 2);
    }

    private static (string, string, bool)[] Versions(JsonElement model) =>
        model.GetProperty("versions").EnumerateArray()
            .Select(v => (v.GetProperty("version").GetString()!, v.GetProperty("state").GetString()!, v.GetProperty("serving").GetBoolean())).ToArray();

    private static async Task<JsonElement> PostAsync(HttpClient client, string model, int swatch, string extra = "")
    {
        using var response = await client.PostAsync($"/prediction?model={model}{extra}", TestImages.Form(ModelFolder.Swatch(swatch)));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private void AssertAnsweredBy(JsonElement answer, string version, int swatch)
    {
        Assert.Equal(version, answer.GetProperty("model").GetProperty("version").GetString());
        _service.AssertGreyAnswer(answer.GetProperty("prediction").EnumerateArray().Select(p => p.GetSingle()).ToArray(), version, swatch);
    }
}
