using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;
using PredictionApi.Problems;

namespace PredictionApi.Predictions;

/// <summary>
/// Reads the 'file' parts of a multipart batch as they stream in, so a request with too many files or
/// too many bytes is refused before any file is processed. Also hashes what was sent, so an
/// Idempotency-Key reused for a different request is recognised.
/// </summary>
public static class BatchUpload
{
    public const string Field = "file";

    // Room for boundaries and part headers around the files.
    private const long MultipartOverhead = 64 * 1024;

    public static async Task<(IReadOnlyList<BatchFile>? Files, byte[] RequestSha256, ProblemHttpResult? Problem)> ReadAsync(
        HttpRequest request, BatchOptions options, long maxFileBytes, CancellationToken cancellationToken)
    {
        var example = $"Send the images as multipart/form-data, each in a field named '{Field}', for example: curl -F {Field}=@a.png -F {Field}=@b.png {request.Scheme}://{request.Host}{request.Path}";
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var mediaType)
            || !mediaType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase)
            || HeaderUtilities.RemoveQuotes(mediaType.Boundary).Value is not { Length: > 0 } boundary)
        {
            return (null, [], ApiProblems.UnsupportedMediaType($"The request body is '{request.ContentType ?? "missing"}'. {example}"));
        }

        var bodyLimit = options.MaxTotalBytes + MultipartOverhead;
        var tooLarge = ApiProblems.PayloadTooLarge(
            $"The batch is larger than the {Describe(options.MaxTotalBytes)} this service accepts in one request. Send the files in several smaller batches.");
        if (request.ContentLength > bodyLimit)
        {
            return (null, [], tooLarge);
        }

        // Kestrel enforces this while streaming, so a chunked body cannot exceed it either.
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
        {
            sizeFeature.MaxRequestBodySize = bodyLimit;
        }

        var files = new List<BatchFile>();
        var otherFields = new SortedSet<string>(StringComparer.Ordinal);
        long total = 0;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes(request.QueryString.Value ?? ""));
        var reader = new MultipartReader(boundary, request.Body) { HeadersCountLimit = 16, HeadersLengthLimit = 16 * 1024 };
        try
        {
            while (await reader.ReadNextSectionAsync(cancellationToken) is { } section)
            {
                if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition) || !disposition.IsFileDisposition())
                {
                    otherFields.Add(disposition?.Name.Value ?? "(unnamed)");
                    await section.Body.DrainAsync(cancellationToken);
                    continue;
                }

                var name = HeaderUtilities.RemoveQuotes(disposition.Name).Value;
                if (name != Field)
                {
                    otherFields.Add(name ?? "(unnamed)");
                    await section.Body.DrainAsync(cancellationToken);
                    continue;
                }

                if (files.Count == options.MaxFiles)
                {
                    return (null, [], ApiProblems.Problem(StatusCodes.Status413PayloadTooLarge, "Too many files",
                        $"A batch may hold at most {options.MaxFiles} files; this one has more. Send them in several batches of up to {options.MaxFiles}."));
                }

                var fileName = Upload.CleanFileName(HeaderUtilities.RemoveQuotes(disposition.FileNameStar.HasValue ? disposition.FileNameStar : disposition.FileName).Value);
                var (bytes, length) = await ReadBoundedAsync(section.Body, maxFileBytes, cancellationToken);
                total += length;
                if (total > options.MaxTotalBytes)
                {
                    return (null, [], tooLarge);
                }

                hash.AppendData(Encoding.UTF8.GetBytes($"\u001f{fileName}\u001f{length}\u001f"));
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
                else
                {
                    hash.AppendData(bytes);
                }

                files.Add(new BatchFile(fileName, bytes ?? [], error));
            }
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (null, [], tooLarge);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status408RequestTimeout)
        {
            // Kestrel's minimum data rate: the body arrived too slowly (or never, after a Content-Length that overstated it).
            return (null, [], ApiProblems.Problem(StatusCodes.Status408RequestTimeout, "Request timeout",
                "The request body arrived too slowly or stopped before its declared length; nothing was stored. Send the whole batch at once and retry."));
        }
        catch (Exception e) when (e is InvalidDataException or BadHttpRequestException or IOException && !cancellationToken.IsCancellationRequested)
        {
            return (null, [], ApiProblems.BadRequest($"The multipart body could not be read: it is malformed or cut short. {example}", "Malformed multipart body"));
        }

        if (files.Count == 0)
        {
            var others = otherFields.Count > 0 ? $" The request has field(s) named {string.Join(", ", otherFields.Select(f => $"'{f}'"))}." : "";
            return (null, [], ApiProblems.BadRequest($"The batch has no '{Field}' fields.{others} {example}", "Missing file"));
        }

        return (files, hash.GetHashAndReset(), null);
    }

    /// <summary>Reads a part up to <paramref name="max"/> bytes; beyond that drains it and returns null bytes with the full length.</summary>
    private static async Task<(byte[]? Bytes, long Length)> ReadBoundedAsync(Stream body, long max, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        long length = 0;
        int read;
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

    private static string Describe(long bytes) =>
        bytes >= 1024 * 1024 && bytes % (1024 * 1024) == 0 ? $"{bytes / (1024 * 1024)} MiB" : $"{bytes} bytes";
}
