using System.IO.Enumeration;

namespace PredictionApi.Commands;

/// <summary>Every image file below a folder, recursively; names are paths relative to it.</summary>
public sealed class FolderSource(string root) : IImageSource
{
    private readonly string _root = Path.GetFullPath(root);

    public string Description => _root;

    public int Ignored { get; private set; }

    public IReadOnlyList<PredictFailure> Unlisted { get; private set; } = [];

    public Task<IReadOnlyList<SourceImage>> ListAsync(CancellationToken cancellationToken)
    {
        var options = new EnumerationOptions
        {
            RecurseSubdirectories = true,
            IgnoreInaccessible = true,
            AttributesToSkip = FileAttributes.Hidden | FileAttributes.System,
        };
        var all = Walk(options, directories: false).ToList();
        // The walk passes over folders it may not open; each is reported, or its images would vanish from the count unseen.
        Unlisted = Walk(options, directories: true)
            .Select(d => (Folder: d, Error: ListingError(d)))
            .Where(d => d.Error is not null)
            .Select(d => new PredictFailure(Relative(d.Folder) + "/", $"folder cannot be read: {d.Error}"))
            .OrderBy(f => f.Name, StringComparer.Ordinal)
            .ToList();
        var images = all.Where(IImageSource.IsImageName)
            .Select(path => new SourceImage(Relative(path), path))
            .OrderBy(i => i.Name, StringComparer.Ordinal)
            .ToList();
        Ignored = all.Count - images.Count;
        return Task.FromResult<IReadOnlyList<SourceImage>>(images);
    }

    /// <summary>
    /// The files (or folders) below the root. Linked folders are followed, except a link back to a folder it is in: the
    /// walk went round such a loop until the system refused (40 levels), listing every image of the loop 40 times.
    /// </summary>
    private IEnumerable<string> Walk(EnumerationOptions options, bool directories) =>
        new FileSystemEnumerable<string>(_root, (ref FileSystemEntry entry) => entry.ToFullPath(), options)
        {
            ShouldIncludePredicate = (ref FileSystemEntry entry) => entry.IsDirectory == directories,
            ShouldRecursePredicate = (ref FileSystemEntry entry) => !IsLoop(entry.ToFullPath()),
        };

    private static bool IsLoop(string folder)
    {
        try
        {
            if (Directory.ResolveLinkTarget(folder, returnFinalTarget: true) is not { } target)
            {
                return false;
            }

            var resolved = Path.TrimEndingDirectorySeparator(target.FullName) + Path.DirectorySeparatorChar;
            return (folder + Path.DirectorySeparatorChar).StartsWith(resolved, StringComparison.Ordinal);
        }
        catch (IOException)
        {
            // A link the system cannot resolve (a loop of links itself): the walk would only fail in it.
            return true;
        }
    }

    /// <summary>A path below the root as the run names it: relative, with forward slashes.</summary>
    private string Relative(string path) => Path.GetRelativePath(_root, path).Replace('\\', '/');

    private static string? ListingError(string folder)
    {
        try
        {
            using var entries = Directory.EnumerateFileSystemEntries(folder).GetEnumerator();
            entries.MoveNext();
            return null;
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            return e.Message;
        }
    }

    public async Task<byte[]> ReadAsync(SourceImage image, long maxBytes, CancellationToken cancellationToken)
    {
        try
        {
            // Sized before it is read: a stray disk image or video named .png must not be loaded whole.
            await using var file = File.OpenRead(image.Location);
            if (file.Length > maxBytes)
            {
                throw IImageSource.TooLarge(file.Length, maxBytes);
            }

            var bytes = new byte[file.Length];
            await file.ReadExactlyAsync(bytes, cancellationToken);
            return bytes;
        }
        catch (FileNotFoundException) when (image.Location.Contains('\uFFFD') && !File.Exists(image.Location))
        {
            // .NET reads bytes of a name that are not UTF-8 (a Latin-1 name from an old archive) as U+FFFD and cannot open
            // the file by that name: "Could not find file" about a file the walk just listed would be a riddle.
            throw new IOException("its name is not valid UTF-8 text, so it cannot be opened by name; rename it " +
                "(for example with convmv -f latin1 -t utf8 --notest) and run again.");
        }
    }
}
