namespace PredictionApi.Commands;

/// <summary>Where the predict command finds images: a folder tree or an S3 prefix.</summary>
public interface IImageSource
{
    /// <summary>Shown in progress and the summary.</summary>
    string Description { get; }

    /// <summary>Every image file under the source, in a stable order.</summary>
    Task<IReadOnlyList<SourceImage>> ListAsync(CancellationToken cancellationToken);

    /// <summary>The image's bytes; an <see cref="IOException"/> that says so when it holds more than <paramref name="maxBytes"/>.</summary>
    Task<byte[]> ReadAsync(SourceImage image, long maxBytes, CancellationToken cancellationToken);

    /// <summary>Why a file of <paramref name="length"/> bytes is not read: more than the uploads' limit, which the command shares.</summary>
    static IOException TooLarge(long length, long maxBytes) =>
        new(string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"it is {length:N0} bytes, more than Upload:MaxBytes ({maxBytes:N0}), the limit of uploads, which the command shares; raise it (--Upload:MaxBytes=...) to classify it."));

    /// <summary>Files <see cref="ListAsync"/> passed over because their names are not image file names.</summary>
    int Ignored { get; }

    /// <summary>Parts of the source <see cref="ListAsync"/> could not list (a folder it may not open): failures of the run.</summary>
    IReadOnlyList<PredictFailure> Unlisted => [];

    /// <summary>Image file names end with one of these; other files are counted as ignored, not failed.</summary>
    static readonly string[] Extensions = [".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp"];

    static bool IsImageName(string name) => Extensions.Any(e => name.EndsWith(e, StringComparison.OrdinalIgnoreCase));
}
