using Dapper;
using Npgsql;

namespace PredictionApi.Storage;

/// <summary>
/// The private PostgreSQL cluster used when no connection string is configured, so the service runs
/// on a fresh machine that only has the PostgreSQL binaries: created on first use, reused afterwards,
/// listening on a unix socket inside its folder only, and stopped with the service.
/// </summary>
public sealed class LocalDatabase(PostgresServer server, string database, ILogger<LocalDatabase> logger)
{
    public string ConnectionString => server.ConnectionString(database);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        logger.LogInformation(
            "No connection string 'Predictions' is configured: running a private PostgreSQL cluster in {Directory}. " +
            "Set ConnectionStrings__Predictions to use another server", server.DataDirectory);
        await server.StartAsync(cancellationToken);
        // Unpooled: a one-off admin connection must never be a stale one to an earlier run of the server. Named, as the
        // pools' metrics are labelled by name (or else by the connection string).
        await using var source = new NpgsqlDataSourceBuilder(new NpgsqlConnectionStringBuilder(server.ConnectionString("postgres")) { Pooling = false }.ConnectionString)
            { Name = "cluster-admin" }.Build();
        await using var connection = await source.OpenConnectionAsync(cancellationToken);
        const string existsSql = """SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = @database)""";
        if (!await connection.ExecuteScalarAsync<bool>(new CommandDefinition(existsSql, new { database }, cancellationToken: cancellationToken)))
        {
            // Identifiers cannot be parameters; the name is validated as [a-z_][a-z0-9_]* by DatabaseOptions.
            await connection.ExecuteAsync(new CommandDefinition($"CREATE DATABASE \"{database}\"", cancellationToken: cancellationToken));
            logger.LogInformation("Created database {Database}", database);
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (server.StartedHere)
        {
            await server.StopAsync(cancellationToken);
        }
    }

    /// <summary>The default home of the cluster: .data/postgres in the repository root when there is one, else in the content root.</summary>
    public static string DefaultDirectory(string contentRoot)
    {
        for (var dir = new DirectoryInfo(contentRoot); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "PredictionApi.sln")))
            {
                return Path.Combine(dir.FullName, ".data", "postgres");
            }
        }

        return Path.Combine(contentRoot, ".data", "postgres");
    }
}
