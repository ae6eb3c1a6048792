using PredictionApi.Health;

namespace PredictionApi.Tests.Health;

/// <summary>
/// "PredictionApi healthcheck", the container's HEALTHCHECK: the real program, run as its own process,
/// against the service on real Kestrel.
/// </summary>
public sealed class HealthProbeTests
{
    /// <summary>Runs the service's program with the given arguments; returns its exit code and output.</summary>
    private static Task<(int ExitCode, string Output)> RunProgramAsync(params string[] args) =>
        RunProgramAsync(new Dictionary<string, string>(), args);

    private static Task<(int ExitCode, string Output)> RunProgramAsync(IReadOnlyDictionary<string, string> environment, params string[] args) =>
        ProgramRun.RunAsync(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet",
            [Path.Combine(AppContext.BaseDirectory, "PredictionApi.dll"), .. args], environment);

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
        Assert.Equal(expected, HealthProbe.DefaultUrl(null, httpPorts));

    // Kestrel listens on ASPNETCORE_URLS, not ASPNETCORE_HTTP_PORTS, when both are set (as in the image, which sets the
    // ports): the probe must follow, or a container moved to another port is reported unhealthy while it serves.
    [Theory]
    [InlineData("http://+:9090", "http://127.0.0.1:9090/health/ready")]
    [InlineData("http://*:9091;http://+:9092", "http://127.0.0.1:9091/health/ready")]
    [InlineData("http://0.0.0.0:9093", "http://127.0.0.1:9093/health/ready")]
    [InlineData("http://[::]:9094", "http://127.0.0.1:9094/health/ready")]
    [InlineData("http://localhost:9095", "http://127.0.0.1:9095/health/ready")]
    [InlineData("http://10.1.2.3:9096", "http://10.1.2.3:9096/health/ready")]
    [InlineData("https://+:8443;http://+:9097", "http://127.0.0.1:9097/health/ready")]
    [InlineData("https://+:8443", "http://127.0.0.1:8080/health/ready")]
    public void ASPNETCORE_URLSComesBeforeTheHttpPorts(string urls, string expected) =>
        Assert.Equal(expected, HealthProbe.DefaultUrl(urls, "8080"));

    [Fact]
    public async Task WithoutAUrlTheProgramAsksWhereASPNETCORE_URLSPutsTheService()
    {
        var database = await TestPostgres.CreateDatabaseAsync("probeurls");
        try
        {
            await using var factory = new PredictionApiFactory(database);
            var address = factory.StartKestrel();

            // The image's ASPNETCORE_HTTP_PORTS names a port where nothing listens; ASPNETCORE_URLS names the service.
            var (exit, output) = await RunProgramAsync(new Dictionary<string, string>
            {
                ["ASPNETCORE_URLS"] = $"http://+:{address.Port}",
                ["ASPNETCORE_HTTP_PORTS"] = TestPostgres.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture),
            }, "healthcheck");

            Assert.True(exit == HealthProbe.Healthy, output);
            Assert.StartsWith("200 ", output);
        }
        finally
        {
            await TestPostgres.DropDatabaseAsync(database);
        }
    }
}
