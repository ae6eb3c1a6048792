using System.Net.Http.Json;
using System.Text.Json;
using PredictionApi.Tests.Shared;

namespace PredictionApi.Tests.Observability;

/// <summary>
/// The alert rules deploy/ ships, loaded by a real Prometheus that scrapes the service: the database alert's
/// expression stays empty while uploads are refused for overload, and holds once PostgreSQL cannot be reached;
/// behind a balancer, where only readiness probes reach a replica without its database, the readiness alert holds.
/// promtool checks the shipped files and runs the rules' unit tests (alert-rules.test.yml).
/// </summary>
public sealed class AlertRulesTests : IAsyncLifetime
{
    private const string DatabaseAlert = "PredictionApiDatabaseUnavailable";
    private const string NotReadyAlert = "PredictionApiNotReady";
    private const string Promtool = "/usr/bin/promtool";

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
        await using var scraped = await ScrapedService.StartAsync(_database, "--Admission:MaxConcurrentUploads=1", "--Admission:MaxQueuedUploads=0");
        var (prometheus, client) = (scraped.Prometheus, scraped.Client);
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
        await scraped.CutDatabaseAsync();

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

    [Fact]
    public async Task BehindABalancerOnlyTheReadinessAlertSeesTheDatabaseGo()
    {
        if (!PrometheusProcess.IsInstalled())
        {
            return;
        }

        await using var scraped = await ScrapedService.StartAsync(_database);
        var (prometheus, client) = (scraped.Prometheus, scraped.Client);
        var notReady = await RuleExpressionAsync(prometheus.Api, NotReadyAlert);
        var database = await RuleExpressionAsync(prometheus.Api, DatabaseAlert);

        // The balancer probes twice a second; while the replica is ready the readiness alert has nothing to say.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline && await prometheus.QueryAsync("""sum(http_server_request_duration_seconds_count{http_route="/health/ready"})""") is not > 2)
        {
            (await client.GetAsync("/health/ready")).Dispose();
            await Task.Delay(500);
        }

        Assert.Null(await prometheus.QueryAsync(notReady));

        // PostgreSQL goes: the balancer takes the replica out, so only its probes arrive, and they get 503.
        await scraped.CutDatabaseAsync();

        double? down = null;
        deadline = DateTime.UtcNow.AddSeconds(40);
        while (DateTime.UtcNow < deadline && down is not > 0)
        {
            (await client.GetAsync("/health/ready")).Dispose();
            down = await prometheus.QueryAsync(notReady);
            await Task.Delay(500);
        }

        Assert.True(down > 0, $"the readiness alert's expression ({notReady}) never held while PostgreSQL was unreachable");
        Assert.Null(await prometheus.QueryAsync(database));
    }

    [Fact]
    public async Task TheShippedConfigurationIsValidAndEveryAlertPassesItsUnitTests()
    {
        if (!PrometheusProcess.IsInstalled())
        {
            return;
        }

        // The one for a host, and the one compose.yaml runs (replicas found through Docker's DNS).
        foreach (var config in new[] { "prometheus.yml", "prometheus-compose.yml" })
        {
            var (configExit, configOutput) = await RunPromtoolAsync("check", "config", Path.Combine(RepoPaths.Root, "deploy", config));
            Assert.True(configExit == 0, $"{config}: {configOutput}");
        }

        var unitTests = Path.Combine(RepoPaths.Root, "tests", "PredictionApi.Tests", "Observability", "alert-rules.test.yml");
        var (testExit, testOutput) = await RunPromtoolAsync("test", "rules", unitTests);
        Assert.True(testExit == 0, testOutput);

        // Every alert of the shipped file has a unit test, so a new one cannot ship untested.
        var shipped = await File.ReadAllTextAsync(Path.Combine(RepoPaths.Root, "deploy", "predictionapi-alerts.yml"));
        var tested = await File.ReadAllTextAsync(unitTests);
        foreach (var alert in System.Text.RegularExpressions.Regex.Matches(shipped, @"alert: (\w+)").Select(m => m.Groups[1].Value))
        {
            Assert.Contains($"alertname: {alert}", tested);
        }
    }

    private static Task<(int ExitCode, string Output)> RunPromtoolAsync(params string[] args) => ProgramRun.RunAsync(Promtool, args);

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
