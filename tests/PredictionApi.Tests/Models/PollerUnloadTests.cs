using System.Diagnostics;
using System.Net;
using System.Text.Json;

namespace PredictionApi.Tests.Models;

/// <summary>
/// Polling does not reload a model an operator unloaded: not when it found a new version just before the unload ran,
/// and not because another model names it as a shadow.
/// </summary>
public sealed class PollerUnloadTests : IAsyncLifetime
{
    private readonly ModelsService _service = ModelsService.WithGreyVersions(1, 2);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _service.DisposeAsync();

    private async Task<JsonElement> DescribeAsync(HttpClient client) =>
        JsonDocument.Parse(await client.GetStringAsync("/models/grey")).RootElement;

    private async Task AssertUnloadedAsync(HttpClient client)
    {
        var model = await DescribeAsync(client);
        Assert.True(model.GetProperty("state").GetString() == "unloaded", model.ToString());
        using var upload = await client.PostAsync("/prediction?model=grey", TestImages.Form(ModelFolder.Swatch(1)));
        await ProblemAssert.AssertProblemAsync(upload, HttpStatusCode.ServiceUnavailable);
    }

    /// <summary>
    /// The poller finds a new version while the operator's unload waits for a load in progress. A version whose model
    /// file is a named pipe holds that load open until the test writes the model into it, which makes the order (poller
    /// looks, unload runs, poller loads) certain instead of a matter of microseconds.
    /// </summary>
    [Fact]
    public async Task ANewVersionFoundWhileAnUnloadWaitsDoesNotUndoTheUnload()
    {
        await _service.StartAsync("pollunload", new Dictionary<string, string?> { ["Model:PollSeconds"] = "1" });
        using var client = _service.Factory.CreateClient();
        // Version 0 (lower than the others, so the poller leaves it alone): its model file is a pipe nothing writes to yet.
        _service.WriteGrey("0", seed: 0);
        var onnx = Path.Combine(_service.Folder, "grey", "0", "model.onnx");
        var bytes = await File.ReadAllBytesAsync(onnx);
        File.Delete(onnx);
        using (var mkfifo = Process.Start("mkfifo", onnx))
        {
            await mkfifo.WaitForExitAsync();
            Assert.Equal(0, mkfifo.ExitCode);
        }

        var load = client.PostAsync("/models/grey/load?version=0&serve=false", null);
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while ((await DescribeAsync(client)).GetProperty("versions").EnumerateArray().All(v => v.GetProperty("state").GetString() != "loading"))
        {
            Assert.True(DateTime.UtcNow < deadline, "the load of version 0 never started");
            await Task.Delay(20);
        }

        var unload = client.PostAsync("/models/grey/unload", null);
        await Task.Delay(200);
        _service.WriteGrey("3", seed: 3);
        // Two ticks of the poller: it sees version 3, and the model still serving (the unload has not run), and waits.
        await Task.Delay(2500);

        // Opened read-write, the pipe's writer never blocks; each round gives whoever is reading the whole model.
        while (!load.IsCompleted)
        {
            await using (var pipe = new FileStream(onnx, FileMode.Open, FileAccess.ReadWrite))
            {
                await pipe.WriteAsync(bytes);
                await Task.Delay(50);
            }

            await Task.WhenAny(load, Task.Delay(50));
        }

        using (var unloaded = await unload)
        {
            Assert.Equal(HttpStatusCode.OK, unloaded.StatusCode);
        }

        (await load).Dispose();
        // The poller's turn, and one more look.
        await Task.Delay(2500);
        await AssertUnloadedAsync(client);
    }

    [Fact]
    public async Task AModelAnotherShadowsStaysUnloadedAcrossPolls()
    {
        await _service.StartAsync("pollshadow", new Dictionary<string, string?>
        {
            ["Model:PollSeconds"] = "1",
            ["Model:Shadows:mnist:0"] = "grey",
        });
        using var client = _service.Factory.CreateClient();
        using (var unloaded = await client.PostAsync("/models/grey/unload", null))
        {
            Assert.Equal(HttpStatusCode.OK, unloaded.StatusCode);
        }

        // Two ticks of the poller.
        await Task.Delay(2500);
        await AssertUnloadedAsync(client);
    }
}
