using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;
using PredictionApi.Tests.Shared;

namespace PredictionApi.Tests.Observability;

/// <summary>
/// The alert rules deploy/ ships, loaded by a real Prometheus that scrapes the service: the database alert's
/// expression stays empty while uploads are refused for overload, and holds once PostgreSQL cannot be reached.
/// </summary>
public sealed class AlertRulesTests : IAsyncLifetime
{
    private const string DatabaseAlert = "PredictionApiDatabaseUnavailable";

    private string _database = null!;

    public async Task InitializeAsync() => _database = await TestPostgres.CreateDatabaseAsync("alerts");

    public Task DisposeAsync() => TestPostgres.DropDatabaseAsync(_database);

    [Fact]
    public async Task TheDatabaseAlertIgnoresOverloadAndHoldsWhenPostgresCannotBeReached()
    {
        if (!PrometheusProcess.IsInstalled())
        {
            return;
        }

        // One upload at a time and none waiting, so concurrent uploads are refused "Too busy" (503).
        await using var proxy = new PostgresProxy(_database);
        var service = new Uri($"http://127.0.0.1:{TestPostgres.FreePort()}");
        await using var process = ServiceProcess.Start($"--ConnectionStrings:Predictions={proxy.ConnectionString}", "--urls", service.ToString(),
            "--Admission:MaxConcurrentUploads=1", "--Admission:MaxQueuedUploads=0");
        await process.WaitForReadyAsync(service);

        await using var prometheus = await PrometheusProcess.StartAsync(service, Path.Combine(RepoPaths.Root, "deploy", "predictionapi-alerts.yml"));
        using var client = new HttpClient { BaseAddress = service };
        var expression = await RuleExpressionAsync(prometheus.Api, DatabaseAlert);

        // Overload: refusals with status 503 reach Prometheus, and the database alert has nothing to say.
        var deadline = DateTime.UtcNow.AddSeconds(40);
        double? busy = null;
        while (DateTime.UtcNow < deadline && busy is not > 0)
        {
            var uploads = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => client.PostAsync("/prediction", TestImages.Form(Mnist.Png(i)))));
            Array.ForEach(uploads, u => u.Dispose());
            busy = await prometheus.QueryAsync("""sum(rate(predictionapi_refusals_total{status="503",title="Too busy"}[5m]))""");
            await Task.Delay(250);
        }

        Assert.True(busy > 0, "Prometheus never saw an upload refused as too busy");
        Assert.Null(await prometheus.QueryAsync(expression));

        // PostgreSQL unreachable: no new connection, and the open ones closed.
        proxy.Refuse = true;
        await using (var admin = new NpgsqlConnection(_database))
        {
            await admin.OpenAsync();
            await using var terminate = new NpgsqlCommand(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()", admin);
            await terminate.ExecuteScalarAsync();
        }

        double? down = null;
        while (DateTime.UtcNow < deadline.AddSeconds(20) && down is not > 0)
        {
            using (await client.PostAsync("/prediction", TestImages.Form(Mnist.Png(1))))
            {
            }

            down = await prometheus.QueryAsync(expression);
            await Task.Delay(250);
        }

        Assert.True(down > 0, $"the alert's expression ({expression}) never held while PostgreSQL was unreachable");
    }

    /// <summary>The expression of an alert as Prometheus loaded it from the shipped rule file.</summary>
    private static async Task<string> RuleExpressionAsync(HttpClient api, string alert)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                var answer = await api.GetFromJsonAsync<JsonElement>("/api/v1/rules?type=alert");
                var rule = answer.GetProperty("data").GetProperty("groups").EnumerateArray()
                    .SelectMany(g => g.GetProperty("rules").EnumerateArray())
                    .FirstOrDefault(r => r.GetProperty("name").GetString() == alert);
                if (rule.ValueKind == JsonValueKind.Object)
                {
                    return rule.GetProperty("query").GetString()!;
                }
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline)
            {
                // Prometheus is still starting.
            }

            Assert.True(DateTime.UtcNow < deadline, $"Prometheus did not load the alert {alert}");
            await Task.Delay(250);
        }
    }
}
