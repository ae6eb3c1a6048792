namespace PredictionApi.Predictions;

/// <summary>
/// The files of an upload, in request order, and the sha256 of the request they came in (path, query and files).
/// The hash is made when first asked for: only a request with an Idempotency-Key needs it, and making it for every
/// upload was a tenth of the cost of reading one.
/// </summary>
public sealed class UploadedFiles(IReadOnlyList<UploadedFile> files, Func<byte[]> hashRequest)
{
    private byte[]? _requestSha256;

    public IReadOnlyList<UploadedFile> Files => files;

    public byte[] RequestSha256 => _requestSha256 ??= hashRequest();
}
