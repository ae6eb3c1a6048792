using System.Diagnostics;
using System.Text;

namespace PredictionApi.Storage;

/// <summary>
/// Creates (initdb), starts and stops a private PostgreSQL cluster with pg_ctl. initdb and the
/// server refuse to run as root, so when this process is root they run as the postgres user.
/// </summary>
public sealed class PostgresServer(PostgresServerSettings settings, ILogger logger)
{
    private const string SuperUser = "postgres";

    public string DataDirectory => Path.Combine(settings.RootDirectory, "data");

    public string SocketDirectory => Path.Combine(settings.RootDirectory, "socket");

    public string LogFile => Path.Combine(settings.RootDirectory, "postgres.log");

    /// <summary>
    /// Names the process responsible for stopping the running server: the one that started it, or the one
    /// that adopted it after that process ended without stopping it (a crash, a kill).
    /// </summary>
    public string OwnerFile => Path.Combine(settings.RootDirectory, "owner");

    /// <summary>
    /// True when this process is responsible for stopping the server: <see cref="StartAsync"/> started it,
    /// or found it running with no live owner and adopted it. False when another live process owns it.
    /// </summary>
    public bool StartedHere { get; private set; }

    /// <summary>Connection string for the given database, over TCP when listening there, else the socket.</summary>
    public string ConnectionString(string database) => new Npgsql.NpgsqlConnectionStringBuilder
    {
        Host = settings.ListenAddress ?? SocketDirectory,
        Port = settings.Port,
        Username = SuperUser,
        Database = database,
    }.ConnectionString;

    /// <summary>Runs initdb when the data folder is new, then starts the server unless it is already running.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var bin = settings.BinDirectory ?? FindBinDirectory();
        Directory.CreateDirectory(settings.RootDirectory);
        Directory.CreateDirectory(SocketDirectory);
        // The kernel limits unix socket paths to 107 bytes; fail with advice rather than a cryptic server error.
        var socketPath = Path.Combine(SocketDirectory, $".s.PGSQL.{settings.Port}");
        if (Encoding.UTF8.GetByteCount(socketPath) > 107)
        {
            throw new PostgresServerException(
                $"The PostgreSQL socket path '{socketPath}' is longer than the 107 bytes the kernel allows; " +
                "choose a shorter Database:LocalDirectory.");
        }

        if (Environment.IsPrivilegedProcess)
        {
            await RunAsync("chown", ["-R", $"{SuperUser}:{SuperUser}", settings.RootDirectory], asPostgres: false, cancellationToken);
        }

        if (!File.Exists(Path.Combine(DataDirectory, "PG_VERSION")))
        {
            logger.LogInformation("Creating a PostgreSQL cluster in {DataDirectory} with {Bin}", DataDirectory, bin);
            // Trust is safe here: the socket is 0700 and TCP, when enabled, is loopback only.
            await RunAsync(Path.Combine(bin, "initdb"),
                ["-D", DataDirectory, "-U", SuperUser, "-A", "trust", "-E", "UTF8", "--no-locale", "--no-instructions"],
                asPostgres: true, cancellationToken);
        }

        var status = await RunAsync(Path.Combine(bin, "pg_ctl"), ["status", "-D", DataDirectory], asPostgres: true, cancellationToken, allowFailure: true);
        if (status == 0)
        {
            if (ClusterOwner.Read(OwnerFile) is { IsAlive: true } owner)
            {
                logger.LogInformation("PostgreSQL is already running in {DataDirectory}, owned by process {Pid}; using it and leaving it running", DataDirectory, owner.Pid);
                return;
            }

            // Whoever started it is gone, so nobody else would ever stop it.
            ClusterOwner.Current.Write(OwnerFile);
            StartedHere = true;
            logger.LogInformation("PostgreSQL is already running in {DataDirectory}, left by a run that ended without stopping it; " +
                "using it and stopping it on exit", DataDirectory);
            return;
        }

        await RunAsync(Path.Combine(bin, "pg_ctl"),
            ["start", "-w", "-t", "60", "-D", DataDirectory, "-l", LogFile, "-o", ServerOptions()],
            asPostgres: true, cancellationToken);
        ClusterOwner.Current.Write(OwnerFile);
        StartedHere = true;
        logger.LogInformation("Started PostgreSQL in {DataDirectory} on {Endpoint} (log: {LogFile})",
            DataDirectory, settings.ListenAddress is null ? socketPath : $"{settings.ListenAddress}:{settings.Port}", LogFile);
    }

    /// <summary>Stops the server with a fast shutdown (open transactions roll back, data is flushed).</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        var bin = settings.BinDirectory ?? FindBinDirectory();
        await RunAsync(Path.Combine(bin, "pg_ctl"), ["stop", "-w", "-m", "fast", "-D", DataDirectory], asPostgres: true, cancellationToken, allowFailure: true);
        File.Delete(OwnerFile);
        StartedHere = false;
        logger.LogInformation("Stopped PostgreSQL in {DataDirectory}", DataDirectory);
    }

    /// <summary>Whether a server is running on the data folder (pg_ctl status).</summary>
    public async Task<bool> IsRunningAsync(CancellationToken cancellationToken)
    {
        var bin = settings.BinDirectory ?? FindBinDirectory();
        return await RunAsync(Path.Combine(bin, "pg_ctl"), ["status", "-D", DataDirectory], asPostgres: true, cancellationToken, allowFailure: true) == 0;
    }

    /// <summary>
    /// Finds the PostgreSQL server binaries: pg_ctl on PATH, else the newest /usr/lib/postgresql/N/bin (Debian, Ubuntu).
    /// </summary>
    public static string FindBinDirectory()
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        foreach (var dir in path.Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, "pg_ctl");
            if (File.Exists(candidate) && File.Exists(Path.Combine(dir, "initdb")))
            {
                // Follow a symlink so initdb and postgres are taken from the same installation.
                var target = new FileInfo(candidate).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? candidate;
                return Path.GetDirectoryName(target)!;
            }
        }

        const string debianRoot = "/usr/lib/postgresql";
        if (Directory.Exists(debianRoot))
        {
            var newest = Directory.GetDirectories(debianRoot)
                .Select(d => (dir: d, version: int.TryParse(Path.GetFileName(d), out var v) ? v : -1))
                .Where(d => d.version > 0 && File.Exists(Path.Combine(d.dir, "bin", "pg_ctl")))
                .OrderByDescending(d => d.version)
                .Select(d => Path.Combine(d.dir, "bin"))
                .FirstOrDefault();
            if (newest is not null)
            {
                return newest;
            }
        }

        throw new PostgresServerException(
            "PostgreSQL server binaries (initdb, pg_ctl) were not found on PATH or in /usr/lib/postgresql/*/bin. " +
            "Install PostgreSQL (for example 'apt-get install postgresql'), set Database:PostgresBinDirectory, " +
            "or set ConnectionStrings:Predictions to an existing server.");
    }

    private string ServerOptions()
    {
        // pg_ctl hands this string to /bin/sh, so values are single-quoted.
        var options = new StringBuilder();
        options.Append($"-p {settings.Port} -k {ShellQuote(SocketDirectory)} -h {ShellQuote(settings.ListenAddress ?? "")}");
        options.Append(" -c unix_socket_permissions=0700");
        foreach (var (name, value) in settings.Settings)
        {
            options.Append($" -c {name}={ShellQuote(value)}");
        }

        return options.ToString();
    }

    private static string ShellQuote(string value) => "'" + value.Replace("'", "'\\''") + "'";

    private async Task<int> RunAsync(string file, IReadOnlyList<string> arguments, bool asPostgres, CancellationToken cancellationToken, bool allowFailure = false)
    {
        var start = new ProcessStartInfo
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            // The postgres user may not be able to enter the caller's working directory.
            WorkingDirectory = settings.RootDirectory,
        };
        if (asPostgres && Environment.IsPrivilegedProcess)
        {
            start.FileName = "runuser";
            foreach (var a in (string[])["-u", SuperUser, "--", file])
            {
                start.ArgumentList.Add(a);
            }
        }
        else
        {
            start.FileName = file;
        }

        foreach (var a in arguments)
        {
            start.ArgumentList.Add(a);
        }

        using var process = Process.Start(start) ?? throw new PostgresServerException($"Could not start {file}.");
        // pg_ctl sends the server's output to the log file (-l), so these pipes close when the command exits.
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        var output = ((await stdout) + (await stderr)).Trim();
        if (process.ExitCode != 0 && !allowFailure)
        {
            throw new PostgresServerException(
                $"'{Path.GetFileName(file)} {arguments[0]}' failed with exit code {process.ExitCode}: {output} " +
                $"(server log: {LogFile})");
        }

        return process.ExitCode;
    }
}
