using System.Net;
using System.Net.Sockets;
using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using PredictionApi.Storage;

namespace PredictionApi.Tests.Infrastructure;

/// <summary>
/// The PostgreSQL server the tests use: PREDICTIONAPI_TEST_CONNECTION_STRING when set (its user needs
/// CREATEDB), otherwise one throwaway cluster per test run, created with initdb in a temp folder from
/// the installed binaries, on a free loopback port, with durability off (fsync) because it is thrown
/// away. Every test class asks for its own database, so no test sees another's rows.
/// </summary>
public static class TestPostgres
{
    public const string ConnectionStringVariable = "PREDICTIONAPI_TEST_CONNECTION_STRING";

    private static readonly Lazy<Task<string>> Admin = new(StartAsync, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Creates an empty database and returns a connection string for it.</summary>
    public static async Task<string> CreateDatabaseAsync(string prefix = "test")
    {
        var admin = await Admin.Value;
        var name = $"{prefix}_{Guid.NewGuid():N}"[..Math.Min(63, prefix.Length + 33)].ToLowerInvariant();
        await using (var connection = new NpgsqlConnection(admin))
        {
            // A database name cannot be a parameter; this one is generated here from a GUID.
            await connection.ExecuteAsync($"CREATE DATABASE \"{name}\"");
        }

        return new NpgsqlConnectionStringBuilder(admin) { Database = name, Pooling = true }.ConnectionString;
    }

    /// <summary>Drops a database made by <see cref="CreateDatabaseAsync"/>, closing its connections.</summary>
    public static async Task DropDatabaseAsync(string connectionString)
    {
        var name = new NpgsqlConnectionStringBuilder(connectionString).Database!;
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(await Admin.Value);
        await connection.ExecuteAsync($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
    }

    private static async Task<string> StartAsync()
    {
        var configured = Environment.GetEnvironmentVariable(ConnectionStringVariable);
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return configured;
        }

        RemoveStaleClusters();
        var root = Path.Combine(Path.GetTempPath(), $"{Prefix}{Environment.ProcessId}-{Guid.NewGuid():N}"[..48]);
        var server = new PostgresServer(new PostgresServerSettings
        {
            RootDirectory = root,
            ListenAddress = "127.0.0.1",
            Port = FreePort(),
            Settings = new Dictionary<string, string>
            {
                ["fsync"] = "off",
                ["synchronous_commit"] = "off",
                ["full_page_writes"] = "off",
                ["max_connections"] = "300",
            },
        }, NullLogger.Instance);
        await server.StartAsync(CancellationToken.None);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            // The run is over: stop the throwaway cluster and delete it.
            server.StopAsync(CancellationToken.None).GetAwaiter().GetResult();
            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Removed at the start of the next run instead.
            }
        };
        return server.ConnectionString("postgres");
    }

    private const string Prefix = "predictionapi-tests-";

    /// <summary>
    /// Deletes clusters of earlier runs whose test host ended before it could clean up: not running
    /// (no postmaster.pid) and untouched for a while, so a run starting in parallel is never disturbed.
    /// </summary>
    private static void RemoveStaleClusters()
    {
        foreach (var dir in Directory.GetDirectories(Path.GetTempPath(), Prefix + "*"))
        {
            try
            {
                if (!File.Exists(Path.Combine(dir, "data", "postmaster.pid")) && Directory.GetLastWriteTimeUtc(dir) < DateTime.UtcNow.AddMinutes(-10))
                {
                    Directory.Delete(dir, recursive: true);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Someone else's or busy: leave it.
            }
        }
    }

    /// <summary>
    /// A cluster of a test's own in <paramref name="root"/>, on a free loopback port with durability off,
    /// for tests that stop it or watch what it does without disturbing the others.
    /// </summary>
    public static async Task<PostgresServer> StartPrivateServerAsync(string root)
    {
        var server = new PostgresServer(new PostgresServerSettings
        {
            RootDirectory = root,
            ListenAddress = "127.0.0.1",
            Port = FreePort(),
            Settings = new Dictionary<string, string> { ["fsync"] = "off", ["full_page_writes"] = "off" },
        }, NullLogger.Instance);
        await server.StartAsync(CancellationToken.None);
        return server;
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
