using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;

namespace PredictionApi.Tests.Observability;

/// <summary>
/// A real Prometheus (Debian's package) that scrapes one service every second, with the rule files given, in a folder
/// of its own; its HTTP API answers PromQL. Stopped, and its folder removed, when disposed.
/// </summary>
internal sealed class PrometheusProcess : IAsyncDisposable
{
    private const string Program = "/usr/bin/prometheus";

    private readonly string _root;
    private readonly Process _process;

    private PrometheusProcess(string root, Process process, int port)
    {
        _root = root;
        _process = process;
        Api = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
    }

    /// <summary>Prometheus's HTTP API.</summary>
    public HttpClient Api { get; }

    /// <summary>False (and the test has nothing to run) when Prometheus is not installed; under CI=true its absence fails the test.</summary>
    public static bool IsInstalled()
    {
        if (File.Exists(Program))
        {
            return true;
        }

        Assert.False(string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase),
            $"{Program} is missing and CI=true: install it with 'apt-get install -y prometheus' (.ci/run does).");
        return false;
    }

    public static async Task<PrometheusProcess> StartAsync(Uri service, params string[] ruleFiles)
    {
        var root = Directory.CreateTempSubdirectory("pa-prometheus-").FullName;
        var config = Path.Combine(root, "prometheus.yml");
        var rules = string.Concat(ruleFiles.Select(f => $"\n  - {f}"));
        await File.WriteAllTextAsync(config, $"""
            global:
              scrape_interval: 1s
              evaluation_interval: 1s
            rule_files:{(rules.Length == 0 ? " []" : rules)}
            scrape_configs:
              - job_name: predictionapi
                static_configs:
                  - targets: ["{service.Authority}"]
            """);
        var port = TestPostgres.FreePort();
        var process = Process.Start(new ProcessStartInfo(Program,
            [$"--config.file={config}", $"--storage.tsdb.path={Path.Combine(root, "data")}", $"--web.listen-address=127.0.0.1:{port}"])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        })!;
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        return new PrometheusProcess(root, process, port);
    }

    /// <summary>The value of an instant PromQL query with one result, or null while there is none yet.</summary>
    public async Task<double?> QueryAsync(string promql)
    {
        try
        {
            var answer = await Api.GetFromJsonAsync<JsonElement>($"/api/v1/query?query={Uri.EscapeDataString(promql)}");
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

    public async ValueTask DisposeAsync()
    {
        Api.Dispose();
        _process.Kill();
        await _process.WaitForExitAsync();
        _process.Dispose();
        Directory.Delete(_root, recursive: true);
    }
}
