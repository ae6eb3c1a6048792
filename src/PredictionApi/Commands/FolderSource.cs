namespace PredictionApi.Commands;

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
