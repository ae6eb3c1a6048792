using System.Diagnostics;
using PredictionApi.Health;

namespace PredictionApi.Tests.Health;

/// <summary>
/// "PredictionApi healthcheck", the container's HEALTHCHECK: the real program, run as its own process,
/// against the service on real Kestrel.
/// </summary>
public sealed class HealthProbeTests
{
    /// <summary>Runs the service's program with the given arguments; returns its exit code and output.</summary>
    private static async Task<(int ExitCode, string Output)> RunProgramAsync(params string[] args)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "PredictionApi.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output + await error);
    }

    [Fact]
    public async Task AReadyServiceIsHealthy()
    {
        var database = await TestPostgres.CreateDatabaseAsync("probe");
        try
        {
            await using var factory = new PredictionApiFactory(database);
            var ready = new Uri(factory.StartKestrel(), "health/ready");

            var (exit, output) = await RunProgramAsync("healthcheck", ready.AbsoluteUri);

            Assert.True(exit == HealthProbe.Healthy, output);
            Assert.StartsWith("200 ", output);
            Assert.Contains("\"database\"", output);
        }
        finally
        {
            await TestPostgres.DropDatabaseAsync(database);
        }
    }

    [Fact]
    public async Task AServiceWhoseDatabaseIsDownIsUnhealthyThoughItIsLive()
    {
        var nowhere = $"Host=127.0.0.1;Port={TestPostgres.FreePort()};Username=postgres;Database=none;Timeout=2";
        await using var factory = new PredictionApiFactory(nowhere, new Dictionary<string, string?> { ["Database:ApplySchema"] = "false" });
        var address = factory.StartKestrel();

        var (readyExit, readyOutput) = await RunProgramAsync("healthcheck", new Uri(address, "health/ready").AbsoluteUri);
        var (liveExit, _) = await RunProgramAsync("healthcheck", new Uri(address, "health/live").AbsoluteUri);

        Assert.True(readyExit == HealthProbe.Unhealthy, readyOutput);
        Assert.StartsWith("503 ", readyOutput);
        Assert.Equal(HealthProbe.Healthy, liveExit);
    }

    [Fact]
    public async Task NothingListeningIsUnhealthyAndABadUrlIsAUsageError()
    {
        var (exit, output) = await RunProgramAsync("healthcheck", $"http://127.0.0.1:{TestPostgres.FreePort()}/health/ready");
        Assert.Equal(HealthProbe.Unhealthy, exit);
        Assert.Contains("did not answer", output);

        (exit, output) = await RunProgramAsync("healthcheck", "ftp://example/health");
        Assert.Equal(HealthProbe.Unhealthy, exit);
        Assert.Contains("Usage", output);
    }

    [Theory]
    [InlineData(null, "http://127.0.0.1:8080/health/ready")]
    [InlineData("", "http://127.0.0.1:8080/health/ready")]
    [InlineData("5000", "http://127.0.0.1:5000/health/ready")]
    [InlineData(" 5001 ;5002", "http://127.0.0.1:5001/health/ready")]
    [InlineData("9000,9001", "http://127.0.0.1:9000/health/ready")]
    public void WithoutAUrlTheProbeAsksTheFirstPortKestrelListensOnInAContainer(string? httpPorts, string expected) =>
        Assert.Equal(expected, HealthProbe.DefaultUrl(httpPorts));
}
