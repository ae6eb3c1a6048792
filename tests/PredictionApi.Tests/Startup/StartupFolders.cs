using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using PredictionApi.Storage;

namespace PredictionApi.Tests.Startup;

/// <summary>
/// One private cluster folder for the start-up tests of a class (initdb runs once, on the first start), and a
/// models folder with copies of the MNIST model whose manifests are broken in the ways an operator breaks them.
/// </summary>
public sealed class StartupFolders : IAsyncLifetime
{
    // Short: the cluster's socket path must fit the kernel's 107 bytes.
    public string ClusterRoot { get; } = Path.Combine(Path.GetTempPath(), "pa-start-" + Guid.NewGuid().ToString("N")[..8]);

    public string Models { get; } = SyntheticModels.TempModelsFolder();

    /// <summary>The private cluster the service runs in <see cref="ClusterRoot"/>, seen from outside it.</summary>
    public PostgresServer Cluster => new(new PostgresServerSettings { RootDirectory = ClusterRoot }, NullLogger.Instance);

    /// <summary>The service's arguments for this cluster folder, the given model and a free loopback port.</summary>
    public string[] Arguments(string model, int port) =>
    [
        $"--Database:LocalDirectory={ClusterRoot}", $"--Model:Directory={Models}", $"--Model:Name={model}", "--urls", $"http://127.0.0.1:{port}",
    ];

    public Task InitializeAsync()
    {
        Copy("mnist", manifest => manifest);
        File.WriteAllText(Path.Combine(Copy("not-json", m => m), "model.json"), """{ "name": "mnist", "input": { "layout": """);
        Copy("stale-sha256", m =>
        {
            m["sha256"] = new string('0', 64);
            return m;
        });
        Copy("eleven-labels", m =>
        {
            m["labels"]!.AsArray().Add("ten");
            return m;
        });
        Copy("nhwc", m =>
        {
            m["input"]!["layout"] = "NHWC";
            return m;
        });
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        if (await Cluster.IsRunningAsync(CancellationToken.None))
        {
            await Cluster.StopAsync(CancellationToken.None);
        }

        Directory.Delete(ClusterRoot, recursive: true);
        Directory.Delete(Models, recursive: true);
    }

    private string Copy(string name, Func<JsonObject, JsonObject> change)
    {
        var source = Path.Combine(RepoPaths.Models, "mnist");
        var folder = Path.Combine(Models, name);
        Directory.CreateDirectory(folder);
        File.Copy(Path.Combine(source, "model.onnx"), Path.Combine(folder, "model.onnx"));
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(source, "model.json")))!.AsObject();
        File.WriteAllText(Path.Combine(folder, "model.json"), change(manifest).ToJsonString());
        return folder;
    }
}
