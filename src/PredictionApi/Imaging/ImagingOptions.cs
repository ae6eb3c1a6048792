using System.ComponentModel.DataAnnotations;

namespace PredictionApi.Imaging;

/// <summary>Configuration section "Imaging".</summary>
public sealed class ImagingOptions
{
    public const string Section = "Imaging";

    /// <summary>
    /// Largest width x height accepted, checked from the header before decoding. 16 megapixels holds a 12-megapixel
    /// phone photo; a handwritten digit needs far less, and a larger canvas is more likely a decompression bomb.
    /// </summary>
    [Range(1, 1_000_000_000, ErrorMessage = "Imaging:MaxPixels must be between 1 and 1000000000 (default 16000000, i.e. 16 megapixels).")]
    public long MaxPixels { get; set; } = 16_000_000;

    /// <summary>
    /// Decoded pixels that may be in memory at once across all requests (4 bytes each); further decodes wait
    /// for room. The default, 40 megapixels, is 160 MB: two images at the default cap at a time, with an
    /// eighth kept for small uploads.
    /// </summary>
    [Range(1_000_000, 1_000_000_000, ErrorMessage = "Imaging:MaxDecodingPixels must be between 1000000 and 1000000000 (default 40000000, 160 MB of decoded pixels).")]
    public long MaxDecodingPixels { get; set; } = 40_000_000;

    /// <summary>How long a decode waits for room in <see cref="MaxDecodingPixels"/> before the upload is refused with 503.</summary>
    [Range(1, 600, ErrorMessage = "Imaging:DecodeWaitSeconds must be between 1 and 600 (default 30).")]
    public int DecodeWaitSeconds { get; set; } = 30;
}
