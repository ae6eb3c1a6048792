using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using PredictionApi.Storage;

namespace PredictionApi.Tests.Storage;

/// <summary>
/// Without a connection string the service creates its own PostgreSQL cluster from the installed
/// binaries, stops it on shutdown, and reuses it (and its data) on the next start.
/// </summary>
public sealed class LocalDatabaseTests
{
    [Fact]
    public async Task WithoutAConnectionStringTheServiceRunsAPrivateClusterAndReusesItAfterARestart()
    {
        var directory = Path.Combine(Path.GetTempPath(), "pa-local-" + Guid.NewGuid().ToString("N")[..8]);
        var settings = new Dictionary<string, string?> { ["Database:LocalDirectory"] = directory };
        var cluster = new PostgresServer(new PostgresServerSettings { RootDirectory = directory }, NullLogger.Instance);
        try
        {
            long id;
            await using (var first = new PredictionApiFactory("", settings))
            {
                using var client = first.CreateClient();
                using var response = await client.PostAsync("/prediction", TestImages.Form(Mnist.Png(0), "kept.png"));
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("prediction_id").GetInt64();
                Assert.True(File.Exists(Path.Combine(directory, "data", "PG_VERSION")), "initdb should have created the cluster there");
                Assert.True(await cluster.IsRunningAsync(CancellationToken.None));
                // postmaster.pid line 5 is the socket folder and line 6 the TCP address: none, socket only.
                var pid = await File.ReadAllLinesAsync(Path.Combine(directory, "data", "postmaster.pid"));
                Assert.Equal(Path.Combine(directory, "socket"), pid[4]);
                Assert.Equal("", pid[5].Trim());
            }

            Assert.False(await cluster.IsRunningAsync(CancellationToken.None), "the service should stop the cluster it started");

            await using (var second = new PredictionApiFactory("", settings))
            {
                using var client = second.CreateClient();
                var stored = await client.GetFromJsonAsync<JsonElement>($"/prediction/{id}");
                Assert.Equal("kept.png", stored.GetProperty("filename").GetString());
            }
        }
        finally
        {
            if (await cluster.IsRunningAsync(CancellationToken.None))
            {
                await cluster.StopAsync(CancellationToken.None);
            }

            Directory.Delete(directory, recursive: true);
        }
    }
}
