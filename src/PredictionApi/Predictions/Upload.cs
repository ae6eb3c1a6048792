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

    // File names are echoed and stored, not used as paths; only their length is bounded.
    private const int MaxFileNameLength = 255;

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
        catch (Exception e) when (e is InvalidDataException or BadHttpRequestException or IOException && !cancellationToken.IsCancellationRequested)
        {
            return (null, ApiProblems.BadRequest($"The multipart body could not be read: it is malformed or cut short. {example}", "Malformed multipart body"));
        }

        var files = form.Files.GetFiles(field);
        if (files.Count == 0)
        {
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
            return (null, ApiProblems.BadRequest($"The file '{file.FileName}' is empty (0 bytes).", "Empty file"));
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

        var name = string.IsNullOrWhiteSpace(file.FileName) ? "upload" : file.FileName;
        return (new Upload(name.Length > MaxFileNameLength ? name[..MaxFileNameLength] : name, buffer, (int)file.Length), null);
    }

    private static string Describe(long bytes) =>
        bytes >= 1024 * 1024 && bytes % (1024 * 1024) == 0 ? $"{bytes / (1024 * 1024)} MiB" : $"{bytes} bytes";
}
