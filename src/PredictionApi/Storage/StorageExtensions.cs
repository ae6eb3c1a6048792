using Npgsql;

namespace PredictionApi.Storage;

internal static class StorageExtensions
{
    /// <summary>
    /// One NpgsqlDataSource for the whole service, pointed at ConnectionStrings:Predictions or, when that
    /// is empty, at a private local cluster; the schema is applied before requests are served.
    /// </summary>
    /// <summary>The predictions' connection pool, as /metrics names it.</summary>
    public const string PoolName = "predictions";

    public static WebApplicationBuilder AddStorage(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<DatabaseOptions>()
            .BindConfiguration(DatabaseOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton(DatabaseEndpoint.Create);
        builder.Services.AddSingleton(sp =>
        {
            var dataSource = new NpgsqlDataSourceBuilder(ConnectionTuning.Apply(
                sp.GetRequiredService<DatabaseEndpoint>(), sp.GetRequiredService<IConfiguration>(), sp.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ConnectionTuning))));
            // The pool's name labels its metrics on /metrics; unnamed, it is the connection string (host, port, user, database).
            dataSource.Name = PoolName;
            return dataSource.UseLoggerFactory(sp.GetRequiredService<ILoggerFactory>()).Build();
        });
        builder.Services.AddHostedService<DatabaseStartup>();
        builder.Services.AddSingleton<DatabaseOutage>();
        // Periodic jobs run on one instance at a time (a PostgreSQL advisory lock).
        builder.Services.AddSingleton<JobLeader>();
        return builder;
    }
}
