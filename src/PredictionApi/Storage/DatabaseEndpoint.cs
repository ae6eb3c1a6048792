using Microsoft.Extensions.Options;

namespace PredictionApi.Storage;

/// <summary>Where the database is: the configured connection string, or the private local cluster.</summary>
internal sealed record DatabaseEndpoint(string ConnectionString, LocalDatabase? Local)
{
    public static DatabaseEndpoint Create(IServiceProvider services)
    {
        var configured = services.GetRequiredService<IConfiguration>().GetConnectionString(DatabaseOptions.ConnectionStringName);
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return new DatabaseEndpoint(configured, null);
        }

        // The socket path is known before the cluster runs, so the data source can be built first.
        var options = services.GetRequiredService<IOptions<DatabaseOptions>>().Value;
        var contentRoot = services.GetRequiredService<IHostEnvironment>().ContentRootPath;
        var loggers = services.GetRequiredService<ILoggerFactory>();
        var server = new PostgresServer(
            new PostgresServerSettings
            {
                RootDirectory = Path.GetFullPath(options.LocalDirectory ?? LocalDatabase.DefaultDirectory(contentRoot)),
                BinDirectory = options.PostgresBinDirectory,
            },
            loggers.CreateLogger<PostgresServer>());
        var local = new LocalDatabase(server, options.LocalDatabase, loggers.CreateLogger<LocalDatabase>());
        return new DatabaseEndpoint(local.ConnectionString, local);
    }
}
