using System.ComponentModel.DataAnnotations;

namespace PredictionApi.Storage;

/// <summary>
/// Configuration section "Database". The connection string itself is ConnectionStrings:Predictions;
/// when it is not set the service runs a private PostgreSQL cluster described by these settings.
/// </summary>
public sealed class DatabaseOptions
{
    public const string Section = "Database";

    public const string ConnectionStringName = "Predictions";

    /// <summary>Where the private cluster lives; default .data/postgres in the repository (or content root).</summary>
    public string? LocalDirectory { get; set; }

    /// <summary>Folder with initdb and pg_ctl; found on PATH or in /usr/lib/postgresql/*/bin when empty.</summary>
    public string? PostgresBinDirectory { get; set; }

    /// <summary>Database the private cluster serves.</summary>
    [RegularExpression("^[a-z_][a-z0-9_]{0,62}$", ErrorMessage = "Database:LocalDatabase must be a lower-case identifier such as 'predictions'.")]
    public string LocalDatabase { get; set; } = "predictions";

    /// <summary>Apply db/schema.sql at start-up (idempotent, serialised by an advisory lock).</summary>
    public bool ApplySchema { get; set; } = true;

    /// <summary>How long start-up waits for the database to accept connections before giving up.</summary>
    [Range(0, 3600, ErrorMessage = "Database:StartupTimeoutSeconds must be between 0 and 3600 (default 30).")]
    public int StartupTimeoutSeconds { get; set; } = 30;
}
