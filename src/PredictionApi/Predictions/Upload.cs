using System.Buffers;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Net.Http.Headers;
using PredictionApi.Problems;

namespace PredictionApi.Predictions;

/// <summary>One uploaded file, held in a pooled buffer until disposed.</summary>
public sealed class Upload : IDisposable
{
    private byte[]? _buffer;

    private Upload(string fileName, byte[] buffer, int length)
    {
        FileName = fileName;
        _buffer = buffer;
        Length = length;
    }

    public string FileName { get; }

    public int Length { get; }

    public ReadOnlySpan<byte> Bytes => _buffer.AsSpan(0, Length);

    public ReadOnlyMemory<byte> Memory => _buffer.AsMemory(0, Length);

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _buffer, null) is { } buffer)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Longest file name kept, in UTF-16 code units; longer names are shortened, keeping the extension.</summary>
    public const int MaxFileNameLength = 255;

    // Bidirectional formatting characters: they make "gnp.exe" display as "exe.png".
    private static ReadOnlySpan<char> BidiControls => ['\u061C', '\u200E', '\u200F', '\u202A', '\u202B', '\u202C', '\u202D', '\u202E', '\u2066', '\u2067', '\u2068', '\u2069'];

    /// <summary>
    /// The name to store and echo for a client's file name: its last path segment, without control or
    /// bidirectional formatting characters and unpaired surrogates (PostgreSQL text cannot hold NUL, and
    /// lone surrogates are not text), at most <see cref="MaxFileNameLength"/> characters, and "upload"
    /// when nothing is left. The name is data, never a path, but whoever exports it later gets a plain name.
    /// </summary>
    public static string CleanFileName(string? fileName)
    {
        var name = fileName ?? "";
        name = name[(name.LastIndexOfAny(['/', '\\']) + 1)..];
        var clean = new System.Text.StringBuilder(Math.Min(name.Length, MaxFileNameLength + 2));
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (char.IsHighSurrogate(c) && i + 1 < name.Length && char.IsLowSurrogate(name[i + 1]))
            {
                clean.Append(c).Append(name[++i]);
            }
            else if (!char.IsControl(c) && !char.IsSurrogate(c) && !BidiControls.Contains(c))
            {
                clean.Append(c);
            }
        }

        name = clean.ToString().Trim();
        if (name.Length > MaxFileNameLength)
        {
            // Keep a short extension, and never cut a surrogate pair in two.
            var dot = name.LastIndexOf('.');
            var extension = dot > 0 && name.Length - dot <= 16 ? name[dot..] : "";
            var keep = MaxFileNameLength - extension.Length;
            if (char.IsHighSurrogate(name[keep - 1]))
            {
                keep--;
            }

            name = name[..keep] + extension;
        }

        return name is "" or "." or ".." ? "upload" : name;
    }

    /// <summary>
    /// Reads the multipart field <paramref name="field"/> from the request, or says precisely what is
    /// wrong with the request: 415 when it is not multipart/form-data, 413 when the body or the file is
    /// over <see cref="UploadOptions.MaxBytes"/>, 400 when the field is missing, repeated or empty.
    /// </summary>
    public static async Task<(Upload? Upload, ProblemHttpResult? Problem)> ReadAsync(HttpRequest request, string field, long maxBytes, CancellationToken cancellationToken)
    {
        var example = $"Send the image as multipart/form-data in a field named '{field}', for example: curl -F {field}=@digit.png {request.Scheme}://{request.Host}{request.Path}";
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var mediaType) || !mediaType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase))
        {
            return (null, ApiProblems.UnsupportedMediaType($"The request body is '{request.ContentType ?? "missing"}'. {example}"));
        }

        var bodyLimit = maxBytes + UploadOptions.MultipartOverhead;
        var tooLarge = ApiProblems.PayloadTooLarge($"The upload is larger than the {Describe(maxBytes)} this service accepts per file. Scale the image down and retry.");
        if (request.ContentLength > bodyLimit)
        {
            return (null, tooLarge);
        }

        // Kestrel enforces this while streaming, so a chunked upload cannot exceed it either.
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
        {
            sizeFeature.MaxRequestBodySize = bodyLimit;
        }

        IFormCollection form;
        try
        {
            form = await request.ReadFormAsync(new FormOptions { MultipartBodyLengthLimit = bodyLimit, MemoryBufferThreshold = 1024 * 1024 }, cancellationToken);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (null, tooLarge);
        }
        catch (InvalidDataException e) when (e.Message.Contains("body length limit", StringComparison.OrdinalIgnoreCase))
        {
            return (null, tooLarge);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status408RequestTimeout)
        {
            // Kestrel's minimum data rate: the body arrived too slowly (or never, after a Content-Length that overstated it).
            return (null, ApiProblems.Problem(StatusCodes.Status408RequestTimeout, "Request timeout",
                "The request body arrived too slowly or stopped before its declared length; nothing was stored. Send the whole file at once and retry."));
        }
        catch (Exception e) when (e is InvalidDataException or BadHttpRequestException or IOException && !cancellationToken.IsCancellationRequested)
        {
            return (null, ApiProblems.BadRequest($"The multipart body could not be read: it is malformed or cut short. {example}", "Malformed multipart body"));
        }

        var files = form.Files.GetFiles(field);
        if (files.Count == 0)
        {
            if (form.ContainsKey(field))
            {
                // A part without a filename is a text value, which is what curl -F file=digit.png (no @) sends.
                return (null, ApiProblems.BadRequest($"The field '{field}' holds text, not a file: its part has no filename. {example}", "Missing file"));
            }

            var others = form.Files.Count > 0 ? $" The request has file field(s) named {string.Join(", ", form.Files.Select(f => $"'{f.Name}'"))}." : "";
            return (null, ApiProblems.BadRequest($"The multipart field '{field}' is missing.{others} {example}", "Missing file"));
        }

        if (files.Count > 1)
        {
            return (null, ApiProblems.BadRequest($"The request has {files.Count} '{field}' fields; send exactly one image per request.", "Too many files"));
        }

        var file = files[0];
        if (file.Length == 0)
        {
            return (null, ApiProblems.BadRequest($"The file '{CleanFileName(file.FileName)}' is empty (0 bytes).", "Empty file"));
        }

        if (file.Length > maxBytes)
        {
            return (null, tooLarge);
        }

        var buffer = ArrayPool<byte>.Shared.Rent((int)file.Length);
        try
        {
            await using var stream = file.OpenReadStream();
            await stream.ReadExactlyAsync(buffer.AsMemory(0, (int)file.Length), cancellationToken);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }

        return (new Upload(CleanFileName(file.FileName), buffer, (int)file.Length), null);
    }

    private static string Describe(long bytes) =>
        bytes >= 1024 * 1024 && bytes % (1024 * 1024) == 0 ? $"{bytes / (1024 * 1024)} MiB" : $"{bytes} bytes";
}
