using System.Diagnostics;

namespace PredictionApi.Tests.Hostile;

/// <summary>
/// The service as a process of its own (dotnet PredictionApi.dll from the test binaries), on a free port
/// and a given database: for costs that only show in a freshly started process, such as the first large
/// allocation of a cold native heap, and for measuring its CPU time apart from the test run's.
/// </summary>
public sealed class FreshServiceProcess : IAsyncDisposable
{
    private readonly Process _process;

    private FreshServiceProcess(Process process, Uri baseAddress)
    {
        _process = process;
        Client = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(120) };
    }

    public HttpClient Client { get; }

    /// <summary>CPU time the process has used so far (user and system).</summary>
    public TimeSpan CpuTime
    {
        get
        {
            _process.Refresh();
            return _process.TotalProcessorTime;
        }
    }

    /// <summary>Resident memory now (VmRSS) and at its highest so far (VmHWM), native buffers included.</summary>
    public (long Now, long Peak) ResidentBytes
    {
        get
        {
            var status = File.ReadAllLines($"/proc/{_process.Id}/status");
            long Field(string name) => long.Parse(status.First(l => l.StartsWith(name, StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
            return (Field("VmRSS:"), Field("VmHWM:"));
        }
    }

    /// <summary>Starts the service with <paramref name="settings"/> (keys as in appsettings) and waits until it is ready.</summary>
    public static async Task<FreshServiceProcess> StartAsync(string connectionString, IReadOnlyDictionary<string, string> settings)
    {
        var port = TestPostgres.FreePort();
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "PredictionApi.dll"));
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        start.Environment["ConnectionStrings__Predictions"] = connectionString;
        foreach (var (key, value) in settings)
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start");
        // Drained, so a chatty log never blocks the service on a full pipe.
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var service = new FreshServiceProcess(process, new Uri($"http://127.0.0.1:{port}/"));
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (DateTime.UtcNow < deadline && !process.HasExited)
        {
            try
            {
                using var ready = await service.Client.GetAsync("/health/ready");
                if (ready.IsSuccessStatusCode)
                {
                    return service;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(200);
        }

        await service.DisposeAsync();
        throw new InvalidOperationException("The service process did not become ready within 90 s.");
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}
