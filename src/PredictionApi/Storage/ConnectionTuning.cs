using System.Data.Common;
using Npgsql;

namespace PredictionApi.Storage;

/// <summary>
/// Two Npgsql settings the service sets unless the connection string sets them itself. Each was measured
/// (bench/run.sh): together they took a lone upload from 2.1 to 1.5 ms and 64 concurrent ones from 5,800
/// to 7,100 per second on the same machine.
/// <list type="bullet">
/// <item><c>No Reset On Close=true</c>. By default Npgsql sends DISCARD ALL before a pooled connection is
/// used again, which also throws away the plans PL/pgSQL cached for the statistics' triggers, so every
/// insert planned them again. The service keeps no session state between uses of a connection (SET LOCAL
/// only; the jobs' advisory lock is released before its connection goes back to the pool).</item>
/// <item><c>Max Auto Prepare=64</c>: statements used again and again (the upload's insert, the readers')
/// are prepared once per connection instead of parsed and planned on every call. Only when PostgreSQL is
/// reached directly: a pooler in transaction mode (PgBouncer before 1.21) hands each transaction another
/// server session, where the prepared statement does not exist. The service takes a pooler to be in
/// between when ConnectionStrings:Jobs is set (the way the README configures PgBouncer) or when the
/// server's port differs from the one connected to.</item>
/// </list>
/// </summary>
internal static class ConnectionTuning
{
    public const int AutoPrepared = 64;

    public static string Apply(DatabaseEndpoint endpoint, IConfiguration configuration, ILogger logger)
    {
        var given = Keywords(endpoint.ConnectionString);
        var builder = new NpgsqlConnectionStringBuilder(endpoint.ConnectionString);
        if (!given.Contains("noresetonclose"))
        {
            builder.NoResetOnClose = true;
        }

        if (!given.Contains("maxautoprepare"))
        {
            var pooler = endpoint.Local is not null ? null : PoolerReason(builder, configuration, logger);
            if (pooler is null)
            {
                builder.MaxAutoPrepare = AutoPrepared;
            }
            else
            {
                logger.LogInformation("Statements are not prepared ({Reason}); set Max Auto Prepare in the connection string to decide", pooler);
            }
        }

        return builder.ConnectionString;
    }

    /// <summary>Why a transaction pooler may sit between the service and PostgreSQL, or null when it is reached directly.</summary>
    private static string? PoolerReason(NpgsqlConnectionStringBuilder builder, IConfiguration configuration, ILogger logger)
    {
        if (configuration.GetConnectionString(JobLeader.ConnectionStringName) is { Length: > 0 })
        {
            return "ConnectionStrings:Jobs is set, as behind a pooler";
        }

        // A Unix socket is PostgreSQL's own; with several hosts each connection still goes to one server.
        if (builder.Host is null || builder.Host.StartsWith('/') || builder.Host.Contains(','))
        {
            return null;
        }

        try
        {
            var probe = new NpgsqlConnectionStringBuilder(builder.ConnectionString) { Pooling = false, Timeout = 3, MaxAutoPrepare = 0 };
            // A named source: an unnamed one labels its metrics on /metrics with the connection string.
            using var source = new NpgsqlDataSourceBuilder(probe.ConnectionString) { Name = "startup-probe" }.Build();
            using var connection = source.OpenConnection();
            using var command = new NpgsqlCommand("SELECT inet_server_port()", connection);
            if (command.ExecuteScalar() is not int serverPort || serverPort == builder.Port)
            {
                return null;
            }

            // The periodic jobs' lock is a session's: through a transaction pooler every instance may take it, and it may
            // outlive them on a pooled server connection (JobLeader). Not reached when ConnectionStrings:Jobs is set.
            logger.LogWarning("The database connection seems to go through a pooler and ConnectionStrings:Jobs is not set: the " +
                "periodic jobs' lock needs a session of its own, so set ConnectionStrings:Jobs to a direct connection to PostgreSQL");
            return $"the server listens on port {serverPort}, the connection goes to {builder.Port}";
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException)
        {
            return "the database did not answer when the service started";
        }
    }

    /// <summary>The keywords a connection string sets, lower case without spaces ("No Reset On Close" and "NoResetOnClose" alike).</summary>
    private static HashSet<string> Keywords(string connectionString)
    {
        var parsed = new DbConnectionStringBuilder { ConnectionString = connectionString };
        return parsed.Keys.Cast<string>().Select(k => k.Replace(" ", "").ToLowerInvariant()).ToHashSet();
    }
}
