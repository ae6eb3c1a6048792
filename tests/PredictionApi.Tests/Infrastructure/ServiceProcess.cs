using System.Diagnostics;
using System.Text;

namespace PredictionApi.Tests.Infrastructure;

/// <summary>
/// The built service (PredictionApi.dll) run as its own process, as an operator runs it: for what only a
/// whole process shows (exit codes, what reaches the terminal, what is left running afterwards). Run from
/// the test binaries' folder, so appsettings.json is read and models/ is found, in the Production environment.
/// </summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly StringBuilder _error = new();

    private ServiceProcess(Process process) => _process = process;

    public int Id => _process.Id;

    /// <summary>CPU time the process has used so far (user and system), apart from the test run's.</summary>
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

    /// <summary>The process's threads now.</summary>
    public int Threads =>
        int.Parse(File.ReadAllLines($"/proc/{_process.Id}/status").First(l => l.StartsWith("Threads:", StringComparison.Ordinal))["Threads:".Length..].Trim(),
            System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Everything written to stdout so far (the console log).</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Everything written to stderr so far.</summary>
    public string Error
    {
        get
        {
            lock (_error)
            {
                return _error.ToString();
            }
        }
    }

    public static ServiceProcess Start(params string[] args) => StartIn(AppContext.BaseDirectory, args);

    /// <summary>Starts the built service with these environment variables added (the OTEL_* an operator sets, say).</summary>
    public static ServiceProcess Start(IReadOnlyDictionary<string, string> environment, params string[] args) =>
        StartIn(AppContext.BaseDirectory, environment, args);

    /// <summary>Starts the built service with <paramref name="workingDirectory"/> as its working directory.</summary>
    public static ServiceProcess StartIn(string workingDirectory, params string[] args) =>
        StartIn(workingDirectory, new Dictionary<string, string>(), args);

    private static ServiceProcess StartIn(string workingDirectory, IReadOnlyDictionary<string, string> environment, string[] args)
    {
        // Through env, which gives the service Ctrl+C's default handling back: a test run started in the background
        // (nohup, "&" in a script) passes SIGINT down as ignored, and the runtime then keeps ignoring it, as a program
        // started in the background should, so a test of Ctrl+C would wait for nothing. env execs the service in place.
        var start = new ProcessStartInfo("env")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        start.ArgumentList.Add("--default-signal=INT");
        start.ArgumentList.Add(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet");
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "PredictionApi.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        // Whatever the test runner's environment says, the service gets only the configuration the test gives.
        start.Environment.Remove("ConnectionStrings__Predictions");
        start.Environment.Remove("ASPNETCORE_URLS");
        start.Environment.Remove("ASPNETCORE_HTTP_PORTS");
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        var service = new ServiceProcess(new Process { StartInfo = start });
        service._process.OutputDataReceived += (_, e) => Append(service._output, e.Data);
        service._process.ErrorDataReceived += (_, e) => Append(service._error, e.Data);
        service._process.Start();
        service._process.BeginOutputReadLine();
        service._process.BeginErrorReadLine();
        return service;
    }

    /// <summary>Waits for the process to end and returns its exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan? timeout = null)
    {
        var limit = timeout ?? TimeSpan.FromSeconds(90);
        using var cancel = new CancellationTokenSource(limit);
        try
        {
            await _process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            // What the service said last is what tells why it did not end.
            throw new TimeoutException($"The service did not exit within {limit.TotalSeconds:0} s.\n{Output}\n{Error}");
        }

        // The parameterless wait also waits for the output pipes to be read to their end.
        _process.WaitForExit();
        return _process.ExitCode;
    }

    /// <summary>Waits until GET /health/ready at <paramref name="baseAddress"/> answers 200.</summary>
    public async Task WaitForReadyAsync(Uri baseAddress)
    {
        using var client = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The service exited with {_process.ExitCode} before it was ready.\n{Output}\n{Error}");
            }

            try
            {
                using var response = await client.GetAsync("/health/ready");
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"The service did not become ready.\n{Output}\n{Error}");
    }

    /// <summary>Sends a signal by name (INT for Ctrl+C, TERM, KILL).</summary>
    public async Task SignalAsync(string signal)
    {
        using var kill = Process.Start("kill", [$"-{signal}", _process.Id.ToString()]);
        await kill.WaitForExitAsync();
        Assert.Equal(0, kill.ExitCode);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private static void Append(StringBuilder text, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (text)
        {
            text.AppendLine(line);
        }
    }
}
