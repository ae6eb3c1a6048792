using Microsoft.AspNetCore.Http.Features;

namespace PredictionApi.Predictions;

/// <summary>
/// A request body read through a limit of its own: past <c>limit</c> bytes a read throws the caller's exception. Kestrel's
/// MaxRequestBodySize does the same but also faults the body, so Kestrel closes the connection instead of draining the rest
/// after the answer: a client still sending a chunked body (HttpClient with a stream of unknown length) saw a broken pipe,
/// never the 413. Past this limit the body stays readable, and Kestrel drains it (for at most 5 s) while the answer is read.
/// </summary>
internal sealed class BoundedBody(Stream inner, long limit, Func<Exception> tooLarge) : Stream
{
    private long _read;

    /// <summary>
    /// <paramref name="request"/>'s body held to <paramref name="limit"/>: a declared length over it is refused unread (and
    /// UnreadBodies lets Kestrel drain it, so the client reads the answer), Kestrel's own limit is lifted for this request
    /// (its 30 MB default would refuse a batch within ours), and a chunked body is counted as it is read.
    /// </summary>
    public static Stream Of(HttpRequest request, long limit, Func<Exception> tooLarge)
    {
        if (request.ContentLength > limit)
        {
            throw tooLarge();
        }

        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } kestrelLimit)
        {
            kestrelLimit.MaxRequestBodySize = null;
        }

        return new BoundedBody(request.Body, limit, tooLarge);
    }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => _read; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        Count(await inner.ReadAsync(buffer, cancellationToken));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    private int Count(int read)
    {
        _read += read;
        return _read > limit ? throw tooLarge() : read;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
