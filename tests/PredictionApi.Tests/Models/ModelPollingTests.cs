using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace PredictionApi.Tests.Models;

/// <summary>Model:PollSeconds: a version or model copied into Model:Directory is loaded and swapped in without a request.</summary>
public sealed class ModelPollingTests : IAsyncLifetime
{
    private readonly ModelsService _service = ModelsService.WithGreyVersions(1);

    public async Task InitializeAsync()
    {
        await _service.StartAsync("poll", new Dictionary<string, string?> { ["Model:PollSeconds"] = "1" });
    }

    public async Task DisposeAsync() => await _service.DisposeAsync();

    [Fact]
    public async Task ANewVersionAndANewModelAreServedWithinSeconds()
    {
        using var client = _service.Factory.CreateClient();
        Assert.Equal("1", (await client.GetFromJsonAsync<JsonElement>("/models/grey")).GetProperty("version").GetString());

        // Written in a staging folder and moved in, as a deployment would, so no half-written folder is seen.
        var staging = SyntheticModels.TempModelsFolder();
        ModelFolder.WriteLinearVersion(staging, "grey", "2", seed: 2);
        SyntheticModels.WriteLinear(staging, "late", ["batch", 1, 4, 4], classes: 2, probabilities: true, manifestJson: null);
        Directory.Move(Path.Combine(staging, "grey", "2"), Path.Combine(_service.Folder, "grey", "2"));
        Directory.Move(Path.Combine(staging, "late"), Path.Combine(_service.Folder, "late"));
        Directory.Delete(staging, recursive: true);

        JsonElement grey = default, late = default;
        for (var attempt = 0; attempt < 100; attempt++)
        {
            await Task.Delay(100);
            grey = await client.GetFromJsonAsync<JsonElement>("/models/grey");
            using var lateResponse = await client.GetAsync("/models/late");
            if (lateResponse.StatusCode == HttpStatusCode.OK)
            {
                late = await lateResponse.Content.ReadFromJsonAsync<JsonElement>();
            }

            if (grey.GetProperty("version").GetString() == "2" && late.ValueKind == JsonValueKind.Object && late.GetProperty("state").GetString() == "ready")
            {
                break;
            }
        }

        Assert.Equal("2", grey.GetProperty("version").GetString());
        Assert.Equal("ready", late.GetProperty("state").GetString());
        using var response = await client.PostAsync("/prediction?model=grey", TestImages.Form(ModelFolder.Swatch(1)));
        Assert.Equal("2", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("model").GetProperty("version").GetString());
    }
}
