using Dapper;
using Npgsql;

namespace PredictionApi.Storage.InputStores;

/// <summary>
/// A PostgreSQL advisory lock per object key, held until the end of the current transaction: shared
/// by writers between putting an object and committing the row that references it, exclusive by the
/// deleter while it checks that no row references the key and deletes the object.
/// </summary>
public static class ObjectKeyLock
{
    // The two-integer form keeps these locks apart from the schema migration's single bigint lock.
    private const int Namespace = 0x4F424A4B; // "OBJK"

    public static Task AcquireSharedAsync(NpgsqlConnection connection, string key, CancellationToken cancellationToken)
    {
        const string sql = """SELECT pg_advisory_xact_lock_shared(@Namespace, hashtext(@Key))""";
        return connection.ExecuteAsync(new CommandDefinition(sql, new { Namespace, Key = key }, cancellationToken: cancellationToken));
    }

    public static Task AcquireExclusiveAsync(NpgsqlConnection connection, string key, CancellationToken cancellationToken)
    {
        const string sql = """SELECT pg_advisory_xact_lock(@Namespace, hashtext(@Key))""";
        return connection.ExecuteAsync(new CommandDefinition(sql, new { Namespace, Key = key }, cancellationToken: cancellationToken));
    }
}
