using Amazon.S3;
using Amazon.S3.Model;
using Microsoft.Extensions.Options;
using Npgsql;

namespace PredictionApi.Storage.InputStores;

/// <summary>
/// Inputs in an S3-compatible bucket (storage_kind 'object'). Keys are content-addressed
/// (prefix + sha256 hex), so identical uploads share one object: an object may only be deleted once no
/// input row references its key, which <see cref="ObjectDeletions"/> checks under <see cref="ObjectKeyLock"/>.
/// Inputs stored in the database before object storage was enabled are still read from their rows.
/// </summary>
public sealed class S3InputStore(IAmazonS3 s3, IOptions<ObjectStorageOptions> options, ObjectStoreOutage outage, ILogger<S3InputStore> logger) : IInputStore
{
    private readonly ObjectStorageOptions _options = options.Value;

    public string Kind => StorageKinds.Object;

    public string Bucket => _options.Bucket!;

    public string KeyFor(ReadOnlySpan<byte> sha256) => _options.Prefix + Convert.ToHexStringLower(sha256);

    public async Task<InputPayload> PutAsync(NpgsqlConnection connection, ReadOnlyMemory<byte> bytes, byte[] sha256, string contentType, CancellationToken cancellationToken)
    {
        var key = KeyFor(sha256);
        // Held until the input row commits: a pending delete of this key cannot run between the put and the commit.
        await ObjectKeyLock.AcquireSharedAsync(connection, key, cancellationToken);
        try
        {
            using var body = new ReadOnlyMemoryStream(bytes);
            await s3.PutObjectAsync(new PutObjectRequest
            {
                BucketName = Bucket,
                Key = key,
                InputStream = body,
                AutoCloseStream = false,
                ContentType = contentType,
                UseChunkEncoding = false,
            }, cancellationToken);
        }
        catch (Exception e) when (S3Clients.IsStoreFailure(e) && !cancellationToken.IsCancellationRequested)
        {
            // Logged once per outage, not per upload: with the store down, every upload fails.
            outage.RequestFailed(e);
            throw new InputStorageException(StatusCodes.Status503ServiceUnavailable, "Object storage unavailable", S3Clients.IsMissingBucket(e)
                ? $"The bucket '{Bucket}' does not exist in object storage, so nothing was stored. Retrying will not help until it is created (or ObjectStorage:Bucket names one that exists)."
                : "The image could not be written to object storage, so nothing was stored. Retry later.", e);
        }

        return new InputPayload(Kind, null, key);
    }

    public async Task<Stream> OpenAsync(StoredInput input, CancellationToken cancellationToken)
    {
        if (input.ObjectKey is not { } key)
        {
            return new MemoryStream(DatabaseInputStore.ReadDatabasePayload(input), writable: false);
        }

        try
        {
            var response = await s3.GetObjectAsync(Bucket, key, cancellationToken);
            return response.ResponseStream;
        }
        catch (Exception e) when (S3Clients.IsNotFound(e))
        {
            logger.LogError("Input {Id} points at {Key}, which is missing from bucket {Bucket}", input.Id, key, Bucket);
            throw new InputStorageException(StatusCodes.Status404NotFound, "Image missing",
                $"The image of input {input.Id} is no longer in object storage.", e);
        }
        catch (Exception e) when (S3Clients.IsStoreFailure(e) && !cancellationToken.IsCancellationRequested)
        {
            outage.RequestFailed(e);
            throw new InputStorageException(StatusCodes.Status503ServiceUnavailable, "Object storage unavailable",
                $"The image of input {input.Id} could not be read from object storage. Retry later.", e);
        }
    }

    public async Task<Uri?> RedirectUriAsync(StoredInput input, CancellationToken cancellationToken)
    {
        if (!_options.PresignedRedirect || input.ObjectKey is not { } key)
        {
            return null;
        }

        var request = new GetPreSignedUrlRequest
        {
            BucketName = Bucket,
            Key = key,
            Verb = HttpVerb.GET,
            Expires = DateTime.UtcNow.AddSeconds(_options.PresignedUrlExpirySeconds),
            Protocol = _options.ServiceUrl?.StartsWith("http://", StringComparison.OrdinalIgnoreCase) == true ? Protocol.HTTP : Protocol.HTTPS,
        };
        // The object is shared by identical uploads; the type of this input is what the client is told.
        request.ResponseHeaderOverrides.ContentType = input.ContentType;
        return new Uri(await s3.GetPreSignedURLAsync(request));
    }

    public async Task DeleteObjectAsync(string objectKey, CancellationToken cancellationToken) =>
        await s3.DeleteObjectAsync(Bucket, objectKey, cancellationToken);

    /// <summary>A read-only stream over memory the caller keeps alive for the duration of the put.</summary>
    private sealed class ReadOnlyMemoryStream(ReadOnlyMemory<byte> memory) : Stream
    {
        private int _position;

        public override bool CanRead => true;

        public override bool CanSeek => true;

        public override bool CanWrite => false;

        public override long Length => memory.Length;

        public override long Position
        {
            get => _position;
            set => _position = (int)Math.Clamp(value, 0, memory.Length);
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var n = Math.Min(buffer.Length, memory.Length - _position);
            memory.Span.Slice(_position, n).CopyTo(buffer);
            _position += n;
            return n;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.FromResult(Read(buffer.Span));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => Task.FromResult(Read(buffer, offset, count));

        public override long Seek(long offset, SeekOrigin origin) => Position = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            _ => memory.Length + offset,
        };

        public override void Flush()
        {
        }

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
