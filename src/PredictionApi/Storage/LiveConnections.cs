using System.Net.Sockets;
using Dapper;
using Npgsql;

namespace PredictionApi.Storage;

/// <summary>
/// Opens pooled connections that are known to reach a live backend. After PostgreSQL restarts or its
/// backends are terminated, the pool still holds their dead connections and would hand them out: the
/// first statement on each would fail. A write must not be retried once it may have run (a lost reply
/// after COMMIT is ambiguous), so the connection is checked first with a round trip that changes
/// nothing; if that proves it dead, the pool is cleared and one fresh connection is opened instead.
/// </summary>
internal static class LiveConnections
{
    public static async Task<NpgsqlConnection> OpenLiveConnectionAsync(this NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            NpgsqlConnection? connection = null;
            try
            {
                connection = await dataSource.OpenConnectionAsync(cancellationToken);
                await connection.ExecuteAsync(new CommandDefinition("SELECT 1", cancellationToken: cancellationToken));
                return connection;
            }
            catch (Exception e) when (attempt == 1 && IsDeadConnection(e) && !cancellationToken.IsCancellationRequested)
            {
                if (connection is not null)
                {
                    await connection.DisposeAsync();
                }

                // The other idle connections were opened before the same failure: drop them all at once.
                dataSource.Clear();
            }
            catch
            {
                // Not retried: the caller sees the failure (a 503 for requests).
                if (connection is not null)
                {
                    await connection.DisposeAsync();
                }

                throw;
            }
        }
    }

    /// <summary>
    /// The backend was terminated or shut down (57P01 admin_shutdown, 57P02 crash_shutdown, 57P03
    /// cannot_connect_now) or the socket broke. Timeouts are not included: an exhausted pool or an
    /// overloaded server is not helped by trying again at once.
    /// </summary>
    internal static bool IsDeadConnection(Exception e) => e switch
    {
        PostgresException pg => pg.SqlState is PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown or PostgresErrorCodes.CannotConnectNow,
        NpgsqlException npgsql => npgsql.InnerException is IOException or SocketException,
        _ => false,
    };
}
