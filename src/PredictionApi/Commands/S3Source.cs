using Amazon.S3;
using Amazon.S3.Model;

namespace PredictionApi.Commands;

/// <summary>Every image object under s3://bucket/prefix; names are the object keys.</summary>
public sealed class S3Source(IAmazonS3 s3, string bucket, string prefix) : IImageSource
{
    public string Description => $"s3://{bucket}/{prefix}";

    public int Ignored { get; private set; }

    public async Task<IReadOnlyList<SourceImage>> ListAsync(CancellationToken cancellationToken)
    {
        var images = new List<SourceImage>();
        var request = new ListObjectsV2Request { BucketName = bucket, Prefix = prefix };
        ListObjectsV2Response response;
        do
        {
            response = await s3.ListObjectsV2Async(request, cancellationToken);
            foreach (var o in response.S3Objects ?? [])
            {
                if (IImageSource.IsImageName(o.Key))
                {
                    images.Add(new SourceImage(o.Key, o.Key));
                }
                else if (!o.Key.EndsWith('/'))
                {
                    Ignored++;
                }
            }

            request.ContinuationToken = response.NextContinuationToken;
        }
        while (response.IsTruncated == true);
        return images;
    }

    public async Task<byte[]> ReadAsync(SourceImage image, long maxBytes, CancellationToken cancellationToken)
    {
        using var response = await s3.GetObjectAsync(bucket, image.Location, cancellationToken);
        if (response.ContentLength > maxBytes)
        {
            throw IImageSource.TooLarge(response.ContentLength, maxBytes);
        }

        using var buffer = new MemoryStream();
        await response.ResponseStream.CopyToAsync(buffer, cancellationToken);
        return buffer.ToArray();
    }

    /// <summary>Splits s3://bucket/prefix; false when <paramref name="uri"/> is not of that form.</summary>
    public static bool TryParse(string uri, out string bucket, out string prefix)
    {
        bucket = prefix = "";
        if (!uri.StartsWith("s3://", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var rest = uri["s3://".Length..];
        var slash = rest.IndexOf('/');
        bucket = slash < 0 ? rest : rest[..slash];
        prefix = slash < 0 ? "" : rest[(slash + 1)..];
        return bucket.Length > 0;
    }
}
