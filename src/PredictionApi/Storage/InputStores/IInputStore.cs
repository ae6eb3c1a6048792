using Npgsql;

namespace PredictionApi.Storage.InputStores;

/// <summary>
/// Where the bytes of uploaded images live: in PostgreSQL beside their row (base64 in inputs.data) or
/// in an S3-compatible object store (inputs.object_key). The one swappable part of storage; the rows
/// themselves are always in PostgreSQL.
/// </summary>
public interface IInputStore
{
    /// <summary>The storage_kind new inputs get: 'database' or 'object'.</summary>
    string Kind { get; }

    /// <summary>
    /// Stores the bytes of a new input. Called inside the open transaction that then inserts the input
    /// row, so the bytes are durable before any row points at them.
    /// </summary>
    Task<InputPayload> PutAsync(NpgsqlConnection connection, ReadOnlyMemory<byte> bytes, byte[] sha256, string contentType, CancellationToken cancellationToken);

    /// <summary>Opens the bytes of a stored input; throws <see cref="InputStorageException"/> when they cannot be read.</summary>
    Task<Stream> OpenAsync(StoredInput input, CancellationToken cancellationToken);

    /// <summary>A short-lived URL a client may fetch the bytes from directly, or null when they are served by this service.</summary>
    Task<Uri?> RedirectUriAsync(StoredInput input, CancellationToken cancellationToken);

    /// <summary>Deletes one object from the object store (deleting a missing object succeeds).</summary>
    Task DeleteObjectAsync(string objectKey, CancellationToken cancellationToken);
}
