using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using PredictionApi.Problems;
using PredictionApi.Storage;

namespace PredictionApi.Tests.Startup;

/// <summary>
/// Start-up failures as an operator meets them, in the real process: one line that says what is wrong and
/// how to fix it, exit code 1, and no private PostgreSQL cluster left running behind a failed or ended run.
/// </summary>
public sealed class StartupFailureTests(StartupFolders folders) : IClassFixture<StartupFolders>
{
    [Theory]
    [InlineData("not-json", "is not a valid manifest")]
    [InlineData("stale-sha256", "Refusing to serve it")]
    [InlineData("eleven-labels", "labels has 11 entries but the model outputs 10 classes")]
    [InlineData("nhwc", "input.layout is NHWC")]
    public async Task AModelThatCannotBeServedIsOneLineAndExitCode1AndTheClusterItStartedIsStopped(string model, string expected)
    {
        await using var service = ServiceProcess.Start(folders.Arguments(model, TestPostgres.FreePort()));

        var exit = await service.WaitForExitAsync();

        AssertOneLineFailure(service, exit, expected);
        // The model is loaded after the database is ready, so the cluster did run before the failure.
        Assert.Contains("Started PostgreSQL", service.Output);
        Assert.False(await folders.Cluster.IsRunningAsync(CancellationToken.None), "the failed start left the private cluster running");
    }

    [Fact]
    public async Task APortInUseIsOneLineThatPointsAtUrlsAndTheClusterItStartedIsStopped()
    {
        using var occupant = new TcpListener(System.Net.IPAddress.Loopback, 0);
        occupant.Start();
        var port = ((System.Net.IPEndPoint)occupant.LocalEndpoint).Port;
        await using var service = ServiceProcess.Start(folders.Arguments("mnist", port));

        var exit = await service.WaitForExitAsync();

        AssertOneLineFailure(service, exit, $"http://127.0.0.1:{port}");
        Assert.Contains("address already in use", service.Error);
        Assert.Contains("--urls", service.Error);
        Assert.Contains("Started PostgreSQL", service.Output);
        Assert.False(await folders.Cluster.IsRunningAsync(CancellationToken.None), "the failed start left the private cluster running");
    }

    [Fact]
    public async Task AClusterLeftByAKilledServiceIsAdoptedByTheNextRunWhichStopsItOnCtrlC()
    {
        var port = TestPostgres.FreePort();
        await using (var crashed = ServiceProcess.Start(folders.Arguments("mnist", port)))
        {
            await crashed.WaitForReadyAsync(new Uri($"http://127.0.0.1:{port}"));
            await crashed.SignalAsync("KILL");
            await crashed.WaitForExitAsync();
        }

        Assert.True(await folders.Cluster.IsRunningAsync(CancellationToken.None), "a killed process cannot stop its cluster; this test needs it left running");

        await using var next = ServiceProcess.Start(folders.Arguments("mnist", port));
        await next.WaitForReadyAsync(new Uri($"http://127.0.0.1:{port}"));
        Assert.Contains("left by a run that ended without stopping it", next.Output);
        await next.SignalAsync("INT");

        Assert.Equal(0, await next.WaitForExitAsync());
        Assert.False(await folders.Cluster.IsRunningAsync(CancellationToken.None), "Ctrl+C left the adopted cluster running");
    }

    [Fact]
    public async Task AFailedStartLeavesRunningAClusterThatAnotherLiveProcessOwns()
    {
        // This test process starts the cluster and owns it, as a service still serving from it would.
        var owner = new PostgresServer(new PostgresServerSettings { RootDirectory = folders.ClusterRoot }, NullLogger.Instance);
        await owner.StartAsync(CancellationToken.None);
        try
        {
            await using var service = ServiceProcess.Start(folders.Arguments("stale-sha256", TestPostgres.FreePort()));

            var exit = await service.WaitForExitAsync();

            AssertOneLineFailure(service, exit, "Refusing to serve it");
            Assert.Contains($"owned by process {Environment.ProcessId}", service.Output);
            Assert.True(await folders.Cluster.IsRunningAsync(CancellationToken.None), "the failed start stopped a cluster another process serves from");
        }
        finally
        {
            await owner.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task AnOriginWithAPathInCorsAllowedOriginsIsOneLineAndExitCode1()
    {
        await using var service = ServiceProcess.Start("--ConnectionStrings:Predictions=Host=127.0.0.1;Port=1;Username=nobody",
            "--urls", $"http://127.0.0.1:{TestPostgres.FreePort()}", "--Cors:AllowedOrigins:0=https://labels.example/app");
        var exit = await service.WaitForExitAsync();

        AssertOneLineFailure(service, exit, "Cors:AllowedOrigins must list origins such as https://labels.example.com");
    }

    [Fact]
    public async Task AnInvalidBucketNameIsOneLineAndExitCode1()
    {
        // Options validated as the host starts, before it has made its hosted services: stopping it must not add a line.
        await using var service = ServiceProcess.Start("--ConnectionStrings:Predictions=Host=127.0.0.1;Port=1;Username=nobody",
            "--urls", $"http://127.0.0.1:{TestPostgres.FreePort()}", "--ObjectStorage:Bucket=b");
        var exit = await service.WaitForExitAsync();

        AssertOneLineFailure(service, exit, "ObjectStorage:Bucket 'b' is not a bucket name");
    }

    private static void AssertOneLineFailure(ServiceProcess service, int exit, string expected)
    {
        var all = service.Output + service.Error;
        Assert.True(exit == StartupFailures.Failed, $"exit code {exit}\n{all}");
        var lines = service.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var line = Assert.Single(lines);
        Assert.StartsWith("PredictionApi cannot start: ", line);
        Assert.Contains(expected, line);
        Assert.DoesNotContain("   at ", all);
        Assert.DoesNotContain("Exception", all);
    }
}
