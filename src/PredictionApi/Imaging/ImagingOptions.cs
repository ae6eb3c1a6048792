using System.ComponentModel.DataAnnotations;

namespace PredictionApi.Imaging;

/// <summary>Configuration section "Imaging".</summary>
public sealed class ImagingOptions
{
    public const string Section = "Imaging";

    /// <summary>Largest width x height accepted, checked from the header before decoding.</summary>
    [Range(1, 1_000_000_000, ErrorMessage = "Imaging:MaxPixels must be between 1 and 1000000000 (default 40000000, i.e. 40 megapixels).")]
    public long MaxPixels { get; set; } = 40_000_000;
}
