namespace PredictionApi.Training.Uploads;

/// <summary>
/// How one digit is turned into an uploaded picture: its stroke width, resolution, blur, placement and
/// the paper, ink, light and noise of the photo or scan. Lengths at the 28x28 scale are in MNIST pixels.
/// </summary>
internal sealed record UploadStyle
{
    /// <summary>Extra stroke width per side, in MNIST pixels; negative thins.</summary>
    public float Thickness { get; init; }

    /// <summary>Gaps cut into the strokes (pen skipping, faint scan).</summary>
    public int Breaks { get; init; }

    /// <summary>Upload pixels per MNIST pixel: 3 draws the 28x28 digit as 84x84, 0.5 as 14x14.</summary>
    public float Scale { get; init; } = 3;

    /// <summary>Width over height of the drawn digit relative to MNIST's: above 1 wider (a sloppy or stretched scan).</summary>
    public float Aspect { get; init; } = 1;

    /// <summary>When set, the digit is first reduced to this many pixels per MNIST pixel, then scaled to <see cref="Scale"/>.</summary>
    public float? Through { get; init; }

    /// <summary>Gaussian blur, in upload pixels.</summary>
    public float Blur { get; init; }

    /// <summary>Paper around the digit on each side, as a share of the digit's size.</summary>
    public float Left { get; init; } = 0.25f;
    public float Top { get; init; } = 0.25f;
    public float Right { get; init; } = 0.25f;
    public float Bottom { get; init; } = 0.25f;

    /// <summary>Gray level of the paper and of full ink (dark on light when ink &lt; paper).</summary>
    public float Paper { get; init; } = 255;
    public float Ink { get; init; }

    /// <summary>Uneven light: the paper's level changes by this much from one side of the picture to the other.</summary>
    public float Gradient { get; init; }

    /// <summary>Direction of <see cref="Gradient"/>, radians.</summary>
    public float GradientAngle { get; init; }

    /// <summary>Smooth paper texture (standard deviation in gray levels, blotches a few pixels wide).</summary>
    public float Grain { get; init; }

    /// <summary>Sensor noise, standard deviation in gray levels, independent per pixel.</summary>
    public float Noise { get; init; }

    /// <summary>
    /// When set, a two-level picture (a bitmap scan, a fax): pixels darker than this level become ink, the others paper.
    /// </summary>
    public float? Binarize { get; init; }

    /// <summary>JPEG quality of a round trip through the codec, or null for a lossless (PNG) upload.</summary>
    public int? JpegQuality { get; init; }
}
