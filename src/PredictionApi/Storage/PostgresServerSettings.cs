namespace PredictionApi.Storage;

/// <summary>
/// Settings for a PostgreSQL cluster this process creates and runs from the installed binaries.
/// </summary>
public sealed record PostgresServerSettings
{
    /// <summary>Folder that holds the cluster (data/, socket/, postgres.log).</summary>
    public required string RootDirectory { get; init; }

    /// <summary>Folder with initdb, pg_ctl and postgres; found automatically when null.</summary>
    public string? BinDirectory { get; init; }

    /// <summary>TCP address to listen on (for example 127.0.0.1), or null for the unix socket only.</summary>
    public string? ListenAddress { get; init; }

    /// <summary>Port; for a socket-only cluster it only names the socket file.</summary>
    public int Port { get; init; } = 5432;

    /// <summary>Extra server settings passed as -c name=value.</summary>
    public IReadOnlyDictionary<string, string> Settings { get; init; } = new Dictionary<string, string>();
}
