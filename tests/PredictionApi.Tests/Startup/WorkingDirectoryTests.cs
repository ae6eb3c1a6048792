using System.Net;

namespace PredictionApi.Tests.Startup;

/// <summary>
/// The built program started from another folder (as docs/examples.sh starts it, in docs/examples) serves the web
/// page and logs with appsettings.json's levels: one line per request, not every SQL command and framework step.
/// </summary>
public sealed class WorkingDirectoryTests : IAsyncLifetime
{
    private readonly string _elsewhere = Directory.CreateTempSubdirectory("pa-cwd-").FullName;
    private string _database = null!;

    public async Task InitializeAsync() => _database = await TestPostgres.CreateDatabaseAsync("cwd");

    public async Task DisposeAsync()
    {
        await TestPostgres.DropDatabaseAsync(_database);
        Directory.Delete(_elsewhere, recursive: true);
    }

    [Fact]
    public async Task TheBuiltProgramStartedElsewhereServesThePageAndLogsOneLinePerRequest()
    {
        var service = new Uri($"http://127.0.0.1:{TestPostgres.FreePort()}");
        await using var process = ServiceProcess.StartIn(_elsewhere, $"--ConnectionStrings:Predictions={_database}", "--urls", service.ToString());
        await process.WaitForReadyAsync(service);
        using var client = new HttpClient { BaseAddress = service };

        using var page = await client.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        await client.PostPredictionAsync(Mnist.Png(7), "cwd-digit.png");
        await process.SignalAsync("TERM");
        Assert.Equal(0, await process.WaitForExitAsync());

        // Npgsql and ASP.NET Core log at Warning (appsettings.json); the request log's line is the one about the upload.
        var output = process.Output;
        Assert.Contains("POST /prediction/ 200", output);
        Assert.DoesNotContain("Npgsql.Command", output);
        Assert.DoesNotContain("Microsoft.AspNetCore.Hosting.Diagnostics", output);
    }
}
