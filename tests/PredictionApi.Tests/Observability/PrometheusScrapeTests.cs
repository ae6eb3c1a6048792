using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Xunit.Abstractions;

namespace PredictionApi.Tests.Observability;

/// <summary>
/// A real Prometheus (Debian's package) scrapes the service on Kestrel, and PromQL through its HTTP API
/// answers the request rate and a quantile of inference latency, as an operator's dashboard would ask.
/// </summary>
public sealed class PrometheusScrapeTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Prometheus = "/usr/bin/prometheus";

    private readonly string _root = Path.Combine(Path.GetTempPath(), "pa-prometheus-" + Guid.NewGuid().ToString("N")[..8]);
    private string _database = null!;

    public async Task InitializeAsync() => _database = await TestPostgres.CreateDatabaseAsync("metrics");

    public async Task DisposeAsync()
    {
        await TestPostgres.DropDatabaseAsync(_database);
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    [Fact]
    public async Task PrometheusScrapesTheRequestRateAndAnInferenceQuantile()
    {
        if (!File.Exists(Prometheus))
        {
            Assert.False(string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase),
                $"{Prometheus} is missing and CI=true: install it with 'apt-get install -y prometheus' (.ci/run does).");
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

        Directory.CreateDirectory(_root);
        var config = Path.Combine(_root, "prometheus.yml");
        await File.WriteAllTextAsync(config, $"""
            global:
              scrape_interval: 1s
            scrape_configs:
              - job_name: predictionapi
                static_configs:
                  - targets: ["{service.Authority}"]
            """);
        var port = TestPostgres.FreePort();
        using var prometheus = Process.Start(new ProcessStartInfo(Prometheus,
            [$"--config.file={config}", $"--storage.tsdb.path={Path.Combine(_root, "data")}", $"--web.listen-address=127.0.0.1:{port}"])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        })!;
        prometheus.BeginErrorReadLine();
        prometheus.BeginOutputReadLine();
        try
        {
            using var client = new HttpClient { BaseAddress = service };
            using var api = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            var deadline = DateTime.UtcNow.AddSeconds(40);
            double? rate = null, p99 = null;
            while (DateTime.UtcNow < deadline && (rate is not > 0 || p99 is not > 0))
            {
                await Task.WhenAll(Enumerable.Range(0, 8).Select(i => client.PostPredictionAsync(Mnist.Png(i))));
                rate = await QueryAsync(api, "sum(rate(http_server_request_duration_seconds_count[5s]))");
                p99 = await QueryAsync(api, "histogram_quantile(0.99, sum by (le) (rate(predictionapi_inference_duration_seconds_bucket[5s])))");
                await Task.Delay(250);
            }

            output.WriteLine($"request rate {rate} /s, inference p99 {p99} s");
            var targets = await api.GetStringAsync("/api/v1/targets");
            Assert.True(rate > 0, $"Prometheus has no request rate for the service; its targets: {targets}");
            Assert.InRange(p99 ?? 0, 1e-6, 1.0);
        }
        finally
        {
            prometheus.Kill();
            await prometheus.WaitForExitAsync();
        }
    }

    /// <summary>The value of an instant PromQL query with one result, or null while there is none yet.</summary>
    internal static async Task<double?> QueryAsync(HttpClient api, string promql)
    {
        try
        {
            var answer = await api.GetFromJsonAsync<JsonElement>($"/api/v1/query?query={Uri.EscapeDataString(promql)}");
            var result = answer.GetProperty("data").GetProperty("result");
            if (result.GetArrayLength() == 0)
            {
                return null;
            }

            var value = result[0].GetProperty("value")[1].GetString();
            return double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number) ? number : null;
        }
        catch (HttpRequestException)
        {
            // Prometheus is still starting.
            return null;
        }
    }
}
