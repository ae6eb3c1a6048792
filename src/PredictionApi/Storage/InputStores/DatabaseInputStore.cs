using Npgsql;

namespace PredictionApi.Storage.InputStores;

/// <summary>The default: each input's bytes as base64 in its own row (storage_kind 'database').</summary>
public sealed class DatabaseInputStore : IInputStore
{
    public string Kind => StorageKinds.Database;

    public Task<InputPayload> PutAsync(NpgsqlConnection connection, ReadOnlyMemory<byte> bytes, byte[] sha256, string contentType, CancellationToken cancellationToken) =>
        Task.FromResult(Payload(bytes.Span));

    /// <summary>Where the bytes of a 'database' input go: base64 in its row, with no I/O of its own.</summary>
    public static InputPayload Payload(ReadOnlySpan<byte> bytes) => new(StorageKinds.Database, Convert.ToBase64String(bytes), null);

    public Task<Stream> OpenAsync(StoredInput input, CancellationToken cancellationToken) =>
        Task.FromResult<Stream>(new MemoryStream(ReadDatabasePayload(input), writable: false));

    public Task<Uri?> RedirectUriAsync(StoredInput input, CancellationToken cancellationToken) => Task.FromResult<Uri?>(null);

    public Task DeleteObjectAsync(string objectKey, CancellationToken cancellationToken) =>
        throw new InvalidOperationException("Inputs are kept in the database; there is no object store to delete from.");

    /// <summary>The bytes of a 'database' input; for an 'object' input, says that object storage is not configured.</summary>
    internal static byte[] ReadDatabasePayload(StoredInput input) => input.Data is { } data
        ? Convert.FromBase64String(data)
        : throw new InputStorageException(StatusCodes.Status503ServiceUnavailable, "Object storage not configured",
            $"Input {input.Id} is kept in object storage, which this service is not configured to read. Set ObjectStorage:Enabled and its connection settings.");
}
