using System.Net.Http.Json;
using Xunit.Abstractions;

namespace PredictionApi.Tests.Observability;

/// <summary>
/// A real Prometheus (Debian's package) scrapes the service on Kestrel, and PromQL through its HTTP API
/// answers the request rate and a quantile of inference latency, as an operator's dashboard would ask.
/// </summary>
public sealed class PrometheusScrapeTests(ITestOutputHelper output) : IAsyncLifetime
{
    private string _database = null!;

    public async Task InitializeAsync() => _database = await TestPostgres.CreateDatabaseAsync("metrics");

    public Task DisposeAsync() => TestPostgres.DropDatabaseAsync(_database);

    [Fact]
    public async Task PrometheusScrapesTheRequestRateAndAnInferenceQuantile()
    {
        if (!PrometheusProcess.IsInstalled())
        {
            return;
        }

        // A process of its own, as deployed: one host, one set of meters.
        var servicePort = TestPostgres.FreePort();
        var service = new Uri($"http://127.0.0.1:{servicePort}");
        await using var process = ServiceProcess.Start($"--ConnectionStrings:Predictions={_database}", "--urls", service.ToString());
        await process.WaitForReadyAsync(service);
        using (var direct = new HttpClient { BaseAddress = service })
        {
            // Public by default, so the pools are labelled by name: a connection string there shows host, port, user, database.
            var text = await direct.GetStringAsync("/metrics");
            Assert.Contains("pool_name=\"predictions\"", text);
            Assert.DoesNotContain("Host=", text);
            Assert.DoesNotContain("Username=", text);
        }

        await using var prometheus = await PrometheusProcess.StartAsync(service);
        using var client = new HttpClient { BaseAddress = service };
        var deadline = DateTime.UtcNow.AddSeconds(40);
        double? rate = null, p99 = null;
        while (DateTime.UtcNow < deadline && (rate is not > 0 || p99 is not > 0))
        {
            await Task.WhenAll(Enumerable.Range(0, 8).Select(i => client.PostPredictionAsync(Mnist.Png(i))));
            rate = await prometheus.QueryAsync("sum(rate(http_server_request_duration_seconds_count[5s]))");
            p99 = await prometheus.QueryAsync("histogram_quantile(0.99, sum by (le) (rate(predictionapi_inference_duration_seconds_bucket[5s])))");
            await Task.Delay(250);
        }

        output.WriteLine($"request rate {rate} /s, inference p99 {p99} s");
        var targets = await prometheus.Api.GetStringAsync("/api/v1/targets");
        Assert.True(rate > 0, $"Prometheus has no request rate for the service; its targets: {targets}");
        Assert.InRange(p99 ?? 0, 1e-6, 1.0);
    }
}
