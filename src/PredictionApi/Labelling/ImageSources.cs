using Amazon.S3;
using Amazon.S3.Model;

namespace PredictionApi.Labelling;

/// <summary>One image to label: a name (stored as the input's filename) and how to read it.</summary>
public sealed record SourceImage(string Name, string Location);

/// <summary>Where the label command finds images: a folder tree or an S3 prefix.</summary>
public interface IImageSource
{
    /// <summary>Shown in progress and the summary.</summary>
    string Description { get; }

    /// <summary>Every image file under the source, in a stable order.</summary>
    Task<IReadOnlyList<SourceImage>> ListAsync(CancellationToken cancellationToken);

    Task<byte[]> ReadAsync(SourceImage image, CancellationToken cancellationToken);

    /// <summary>Files <see cref="ListAsync"/> passed over because their names are not image file names.</summary>
    int Ignored { get; }

    /// <summary>Image file names end with one of these; other files are counted as ignored, not failed.</summary>
    static readonly string[] Extensions = [".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp"];

    static bool IsImageName(string name) => Extensions.Any(e => name.EndsWith(e, StringComparison.OrdinalIgnoreCase));
}

/// <summary>Every image file below a folder, recursively; names are paths relative to it.</summary>
public sealed class FolderSource(string root) : IImageSource
{
    private readonly string _root = Path.GetFullPath(root);

    public string Description => _root;

    public int Ignored { get; private set; }

    public Task<IReadOnlyList<SourceImage>> ListAsync(CancellationToken cancellationToken)
    {
        var all = Directory.EnumerateFiles(_root, "*", new EnumerationOptions
        {
            RecurseSubdirectories = true,
            IgnoreInaccessible = true,
            AttributesToSkip = FileAttributes.Hidden | FileAttributes.System,
        }).ToList();
        var images = all.Where(IImageSource.IsImageName)
            .Select(path => new SourceImage(Path.GetRelativePath(_root, path).Replace('\\', '/'), path))
            .OrderBy(i => i.Name, StringComparer.Ordinal)
            .ToList();
        Ignored = all.Count - images.Count;
        return Task.FromResult<IReadOnlyList<SourceImage>>(images);
    }

    public Task<byte[]> ReadAsync(SourceImage image, CancellationToken cancellationToken) => File.ReadAllBytesAsync(image.Location, cancellationToken);
}

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

    public async Task<byte[]> ReadAsync(SourceImage image, CancellationToken cancellationToken)
    {
        using var response = await s3.GetObjectAsync(bucket, image.Location, cancellationToken);
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
