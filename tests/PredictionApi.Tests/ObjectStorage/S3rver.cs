using System.Diagnostics;
using System.Net.Sockets;
using Amazon.S3;
using PredictionApi.Storage.InputStores;

namespace PredictionApi.Tests.ObjectStorage;

/// <summary>
/// A real S3-compatible server for tests: s3rver (npm, tests/s3rver) on 127.0.0.1 with a free port and a
/// temporary data folder. The npm package is installed with 'npm ci' on first use when node_modules is
/// missing. <see cref="StopAsync"/> and <see cref="StartAsync"/> take it down and bring it back on the
/// same port with the same data, to test what the service does while the store is unreachable.
/// </summary>
public sealed class S3rver : IAsyncDisposable
{
    // s3rver checks signatures against its one built-in account.
    public const string AccessKey = "S3RVER";
    public const string SecretKey = "S3RVER";

    private static readonly Lazy<Task<string>> Installed = new(InstallAsync, LazyThreadSafetyMode.ExecutionAndPublication);

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "predictionapi-s3-" + Guid.NewGuid().ToString("N"));
    private readonly string[] _buckets;
    private Process? _process;

    private S3rver(int port, string[] buckets)
    {
        Port = port;
        _buckets = buckets;
    }

    public int Port { get; }

    public string ServiceUrl => $"http://127.0.0.1:{Port}";

    /// <summary>Starts a fresh server with the given buckets.</summary>
    public static async Task<S3rver> StartNewAsync(params string[] buckets)
    {
        var server = new S3rver(TestPostgres.FreePort(), buckets);
        Directory.CreateDirectory(server._directory);
        await server.StartAsync();
        return server;
    }

    /// <summary>Starts (or restarts) the server process and waits until it accepts connections.</summary>
    public async Task StartAsync()
    {
        var script = await Installed.Value;
        var start = new ProcessStartInfo("node")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var a in (string[])[script, "--directory", _directory, "--address", "127.0.0.1", "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--silent", "--no-vhost-buckets"])
        {
            start.ArgumentList.Add(a);
        }

        foreach (var bucket in _buckets)
        {
            start.ArgumentList.Add("--configure-bucket");
            start.ArgumentList.Add(bucket);
        }

        _process = Process.Start(start) ?? throw new InvalidOperationException("node could not be started.");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"s3rver exited with code {_process.ExitCode} on port {Port}.");
            }

            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync("127.0.0.1", Port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }

    /// <summary>Freezes (SIGSTOP) or thaws (SIGCONT) the server: connections stay open and nothing answers, as with a hung store.</summary>
    public async Task SignalAsync(string signal)
    {
        using var kill = Process.Start("kill", [$"-{signal}", _process!.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync();
    }

    /// <summary>Kills the server process; its data folder stays for a restart.</summary>
    public async Task StopAsync()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        _process?.Dispose();
        _process = null;
    }

    /// <summary>A client of this server, as the service builds it from configuration.</summary>
    public AmazonS3Client CreateClient() => S3Clients.Create(Options("unused"));

    public ObjectStorageOptions Options(string bucket) => new()
    {
        Enabled = true,
        ServiceUrl = ServiceUrl,
        Bucket = bucket,
        ForcePathStyle = true,
        AccessKey = AccessKey,
        SecretKey = SecretKey,
        TimeoutSeconds = 10,
    };

    /// <summary>Service configuration that stores inputs in <paramref name="bucket"/> on this server.</summary>
    public Dictionary<string, string?> Settings(string bucket, string prefix = "inputs/") => new()
    {
        ["ObjectStorage:Enabled"] = "true",
        ["ObjectStorage:ServiceUrl"] = ServiceUrl,
        ["ObjectStorage:Bucket"] = bucket,
        ["ObjectStorage:Prefix"] = prefix,
        ["ObjectStorage:ForcePathStyle"] = "true",
        ["ObjectStorage:AccessKey"] = AccessKey,
        ["ObjectStorage:SecretKey"] = SecretKey,
        ["ObjectStorage:TimeoutSeconds"] = "10",
    };

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>Runs 'npm ci' in tests/s3rver when its node_modules is missing; returns the server script.</summary>
    private static async Task<string> InstallAsync()
    {
        var folder = Path.Combine(RepoPaths.Root, "tests", "s3rver");
        var script = Path.Combine(folder, "node_modules", "s3rver", "bin", "s3rver.js");
        if (File.Exists(script))
        {
            return script;
        }

        var start = new ProcessStartInfo("npm")
        {
            WorkingDirectory = folder,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var a in (string[])["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        {
            start.ArgumentList.Add(a);
        }

        using var npm = Process.Start(start) ?? throw new InvalidOperationException("npm could not be started; install Node.js and npm.");
        var stdout = npm.StandardOutput.ReadToEndAsync();
        var stderr = npm.StandardError.ReadToEndAsync();
        await npm.WaitForExitAsync();
        if (npm.ExitCode != 0 || !File.Exists(script))
        {
            throw new InvalidOperationException($"'npm ci' in {folder} failed with exit code {npm.ExitCode}: {await stdout}{await stderr}");
        }

        return script;
    }
}
