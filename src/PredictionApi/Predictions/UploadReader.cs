using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;
using PredictionApi.Observability;
using PredictionApi.Problems;


namespace PredictionApi.Predictions;

/// <summary>
/// The one multipart reader of both upload endpoints, so the same body gets the same answer from either.
/// It streams the parts: file parts in the field <see cref="Field"/> (matched without regard to case, as
/// ASP.NET forms are) are kept, every other part is read past and ignored, and a request with too many
/// files or bytes is refused before any image is processed. It also hashes what was sent, so an
/// Idempotency-Key reused for a different request is recognised. A request that cannot be read throws a
/// <see cref="ProblemException"/>; a file that cannot be kept (too large, empty) gets its own error.
/// </summary>
public static class UploadReader
{
    public const string Field = "file";

    // Room for boundaries and part headers around the files.
    private const long MultipartOverhead = 64 * 1024;

    // RFC 2046 allows 70 characters; some clients send longer ones, and nothing needs more than this.
    private const int MaxBoundaryLength = 256;

    /// <summary>The most of a multipart body read for <paramref name="maxTotalBytes"/> of files: the files and their parts' headers.</summary>
    public static long BodyLimit(long maxTotalBytes) => maxTotalBytes + MultipartOverhead;

    /// <summary>Reads the 'file' parts of the request: at most <paramref name="maxFiles"/> files of <paramref name="maxFileBytes"/>, <paramref name="maxTotalBytes"/> in all.</summary>
    public static async Task<UploadedFiles> ReadAsync(HttpRequest request, int maxFiles, long maxFileBytes, long maxTotalBytes, CancellationToken cancellationToken)
    {
        using var span = ServiceMetrics.Tracing.StartActivity("read-upload");
        return await ReadBodyAsync(request, maxFiles, maxFileBytes, maxTotalBytes, cancellationToken);
    }

    private static async Task<UploadedFiles> ReadBodyAsync(HttpRequest request, int maxFiles, long maxFileBytes, long maxTotalBytes, CancellationToken cancellationToken)
    {
        var single = maxFiles == 1;
        var example = single
            ? $"Send the image as multipart/form-data in a field named '{Field}', for example: curl -F {Field}=@digit.png {request.Scheme}://{request.Host}{request.Path}"
            : $"Send the images as multipart/form-data, each in a field named '{Field}', for example: curl -F {Field}=@a.png -F {Field}=@b.png {request.Scheme}://{request.Host}{request.Path}";
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var mediaType) || !mediaType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase))
        {
            throw new ProblemException(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type", $"The request body is '{request.ContentType ?? "missing"}'. {example}");
        }

        var boundary = HeaderUtilities.RemoveQuotes(mediaType.Boundary).Value;
        if (string.IsNullOrEmpty(boundary) || boundary.Length > MaxBoundaryLength)
        {
            throw new ProblemException(StatusCodes.Status400BadRequest, "Malformed multipart body", string.IsNullOrEmpty(boundary)
                ? $"The Content-Type multipart/form-data has no boundary parameter, so its parts cannot be found. {example}"
                : $"The multipart boundary is {boundary.Length} characters long; at most {MaxBoundaryLength} are accepted. {example}");
        }

        var tooLarge = single
            ? new ProblemException(StatusCodes.Status413PayloadTooLarge, "Payload too large", $"The upload is larger than the {Describe(maxFileBytes)} this service accepts per file. Scale the image down and retry.")
            : new ProblemException(StatusCodes.Status413PayloadTooLarge, "Payload too large", $"The batch is larger than the {Describe(maxTotalBytes)} this service accepts in one request. Send the files in several smaller batches.");
        var body = BoundedBody.Of(request, BodyLimit(maxTotalBytes), () => tooLarge);
        var files = new List<UploadedFile>();
        var otherFields = new SortedSet<string>(StringComparer.Ordinal);
        var textInField = false;
        long total = 0;
        var reader = new MultipartReader(boundary, body) { HeadersCountLimit = 16, HeadersLengthLimit = 16 * 1024 };
        try
        {
            while (await reader.ReadNextSectionAsync(cancellationToken) is { } section)
            {
                ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition);
                var name = HeaderUtilities.RemoveQuotes(disposition?.Name ?? default).Value;
                var inField = string.Equals(name, Field, StringComparison.OrdinalIgnoreCase);
                if (disposition is null || !IsFilePart(disposition) || !inField)
                {
                    // A part without a filename is a text value, which is what curl -F file=digit.png (no @) sends.
                    textInField |= inField;
                    otherFields.Add(string.IsNullOrEmpty(name) ? "(unnamed)" : name);
                    await section.Body.DrainAsync(cancellationToken);
                    continue;
                }

                if (files.Count == maxFiles)
                {
                    throw single
                        ? new ProblemException(StatusCodes.Status400BadRequest, "Too many files", $"The request has more than one '{Field}' field; send exactly one image per request, or several to /predictions/batch.")
                        : new ProblemException(StatusCodes.Status413PayloadTooLarge, "Too many files",
                            $"A batch may hold at most {maxFiles} files; this one has more. Send them in several batches of up to {maxFiles}.");
                }

                var fileName = FileNames.Clean(disposition.FileNameStar.HasValue ? disposition.FileNameStar.Value : FileNames.Unquote(disposition.FileName.Value ?? ""));
                var (bytes, length) = await ReadBoundedAsync(section.Body, maxFileBytes, cancellationToken);
                total += length;
                if (total > maxTotalBytes)
                {
                    throw tooLarge;
                }

                BatchError? error = null;
                if (bytes is null)
                {
                    error = new BatchError(StatusCodes.Status413PayloadTooLarge, "Payload too large",
                        $"The file is larger than the {Describe(maxFileBytes)} this service accepts per file. Scale the image down and retry.");
                }
                else if (bytes.Length == 0)
                {
                    error = new BatchError(StatusCodes.Status400BadRequest, "Empty file", $"The file '{fileName}' is empty (0 bytes).");
                }

                files.Add(new UploadedFile(fileName, bytes ?? [], length, error));
            }
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            throw tooLarge;
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status408RequestTimeout)
        {
            // Kestrel's minimum data rate: the body arrived too slowly (or never, after a Content-Length that overstated it).
            throw new ProblemException(StatusCodes.Status408RequestTimeout, "Request timeout",
                "The request body arrived too slowly or stopped before its declared length; nothing was stored. Send the whole body at once and retry.");
        }
        catch (Exception e) when (e is InvalidDataException or BadHttpRequestException or IOException && !cancellationToken.IsCancellationRequested)
        {
            throw new ProblemException(StatusCodes.Status400BadRequest, "Malformed multipart body", $"The multipart body could not be read: it is malformed or cut short. {example}");
        }

        if (files.Count == 0)
        {
            var others = otherFields.Count > 0 ? $" The request has field(s) named {string.Join(", ", otherFields.Take(10).Select(f => $"'{f}'"))}." : "";
            throw new ProblemException(StatusCodes.Status400BadRequest, "Missing file", textInField
                ? $"The field '{Field}' holds text, not a file: its part has no filename. {example}"
                : $"The request has no '{Field}' field.{others} {example}");
        }

        return new UploadedFiles(files, () => HashRequest(request, files));
    }

    /// <summary>
    /// The request's fingerprint for its Idempotency-Key: the endpoint and parameters, then each file's name, length and
    /// bytes (a file refused as too large or empty adds no bytes).
    /// </summary>
    private static byte[] HashRequest(HttpRequest request, List<UploadedFile> files)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes(Parameters(request)));
        foreach (var file in files)
        {
            hash.AppendData(Encoding.UTF8.GetBytes($"\u001f{file.FileName}\u001f{file.Length}\u001f"));
            if (file.Error is null)
            {
                hash.AppendData(file.Bytes);
            }
        }

        return hash.GetHashAndReset();
    }

    /// <summary>
    /// A form-data part with a filename parameter, also an empty one: Go's CreateFormFile(field, "") sends the image so, and
    /// a browser form whose file input was left empty sends filename="" and no bytes. ASP.NET's own test (a non-empty name)
    /// called both "text, not a file"; as files, the first is classified (as "upload") and the second is an empty file.
    /// </summary>
    private static bool IsFilePart(ContentDispositionHeaderValue disposition) =>
        disposition.DispositionType.Equals("form-data", StringComparison.OrdinalIgnoreCase)
        && (disposition.FileName.HasValue || disposition.FileNameStar.HasValue);

    /// <summary>
    /// The endpoint and parameters as the handler reads them, for the request's hash: routing ignores the case and a
    /// trailing '/' of the path, and the query's order, encoding and the case of its names do not change what is done.
    /// Hashing the raw text made a retry that wrote the same parameters another way a 422 "Idempotency key reused".
    /// </summary>
    private static string Parameters(HttpRequest request)
    {
        var path = (request.Path.Value ?? "").TrimEnd('/').ToLowerInvariant();
        if (request.Query.Count == 0)
        {
            // Most uploads name no parameter: no sorting and joining on the upload path for them (the text is the same).
            return path + "\u001f";
        }

        var query = request.Query
            .Select(p => (Name: p.Key.ToLowerInvariant(), Values: string.Join('\u001e', p.Value.ToArray())))
            .OrderBy(p => p.Name, StringComparer.Ordinal)
            .Select(p => $"{p.Name}={p.Values}");
        return $"{path}\u001f{string.Join('\u001f', query)}";
    }

    /// <summary>Reads a part up to <paramref name="max"/> bytes; beyond that drains it and returns null bytes with the full length.</summary>
    private static async Task<(byte[]? Bytes, long Length)> ReadBoundedAsync(Stream body, long max, CancellationToken cancellationToken)
    {
        // A pooled chunk: a fresh 80 KB array per upload was a measurable share of a small upload's cost.
        var chunk = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            // Most images fit in the chunk: they are copied out once, without a growing buffer.
            var filled = 0;
            int read;
            while (filled < chunk.Length && (read = await body.ReadAsync(chunk.AsMemory(filled), cancellationToken)) > 0)
            {
                filled += read;
            }

            if (filled < chunk.Length)
            {
                return (filled <= max ? chunk[..filled] : null, filled);
            }

            using var buffer = new MemoryStream();
            long length = filled;
            if (length <= max)
            {
                buffer.Write(chunk, 0, filled);
            }

            while ((read = await body.ReadAsync(chunk, cancellationToken)) > 0)
            {
                length += read;
                if (length <= max)
                {
                    buffer.Write(chunk, 0, read);
                }
            }

            return (length <= max ? buffer.ToArray() : null, length);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
    }

    private static string Describe(long bytes) =>
        bytes >= 1024 * 1024 && bytes % (1024 * 1024) == 0 ? $"{bytes / (1024 * 1024)} MiB" : $"{bytes} bytes";
}
