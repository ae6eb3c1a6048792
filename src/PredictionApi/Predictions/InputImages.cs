using PredictionApi.Inference;
using PredictionApi.Storage.InputStores;

namespace PredictionApi.Predictions;

/// <summary>
/// Reads stored input images wherever they live. GET /prediction/{id} embeds the image as a data URL
/// in both storage modes (the bytes are read from the object store when needed), so clients see one
/// contract; GET /prediction/{id}/image serves the bytes, or redirects to a presigned URL when
/// ObjectStorage:PresignedRedirect is set.
/// </summary>
public sealed class InputImages(PredictionReader reader, IInputStore inputs)
{
    /// <summary>A data: URL of base64 bytes.</summary>
    public static string DataUrl(string contentType, string base64) => $"data:{contentType};base64,{base64}";

    /// <summary>The image of <paramref name="input"/> as a data: URL, read from wherever it is stored.</summary>
    public async Task<string> DataUrlAsync(StoredInput input, CancellationToken cancellationToken)
    {
        if (input.Data is { } data)
        {
            return DataUrl(input.ContentType, data);
        }

        await using var stream = await inputs.OpenAsync(input, cancellationToken);
        using var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer, cancellationToken);
        return DataUrl(input.ContentType, Convert.ToBase64String(buffer.GetBuffer().AsSpan(0, (int)buffer.Length)));
    }

    /// <summary>One stored prediction as GET /prediction/{id} returns it: with its labels and its image.</summary>
    public async Task<StoredPrediction> WithImageAsync(PredictionRow row, ModelRegistry models, LabelSelection labels, CancellationToken cancellationToken) =>
        row.ToContract(withImage: false).WithLabels(models, labels) with { Image = await DataUrlAsync(row.Input, cancellationToken) };

    /// <summary>The length of the data: URL of <paramref name="byteSize"/> bytes of <paramref name="contentType"/>.</summary>
    public static long DataUrlLength(string contentType, long byteSize) => "data:".Length + contentType.Length + ";base64,".Length + (byteSize + 2) / 3 * 4;

    /// <summary>
    /// The images of many inputs as data: URLs (a page of GET /predictions?fields=image): the bytes kept
    /// in the database in one query, objects a few at a time. An input deleted meanwhile, or an object
    /// gone from the store, gives null rather than failing the others; a store that cannot be read fails
    /// the whole call.
    /// </summary>
    public async Task<string?[]> DataUrlsAsync(IReadOnlyList<StoredInput> stored, CancellationToken cancellationToken)
    {
        var inDatabase = stored.Where(i => i.Data is null && i.StorageKind == StorageKinds.Database).Select(i => i.Id).ToArray();
        Dictionary<long, string> data = [];
        if (inDatabase.Length > 0)
        {
            data = await reader.InputDataAsync(inDatabase, cancellationToken);
        }

        var urls = new string?[stored.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, stored.Count), new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken },
            async (i, token) =>
            {
                var input = stored[i];
                if (input.StorageKind == StorageKinds.Database && input.Data is null)
                {
                    urls[i] = data.TryGetValue(input.Id, out var base64) ? DataUrl(input.ContentType, base64) : null;
                    return;
                }

                try
                {
                    urls[i] = await DataUrlAsync(input, token);
                }
                catch (InputStorageException e) when (e.Status == StatusCodes.Status404NotFound)
                {
                    // The store has logged the missing object; the prediction is still listed.
                }
            });
        return urls;
    }

    /// <summary>GET /prediction/{id}/image: the stored bytes with their content type, or 302 to a presigned URL.</summary>
}
