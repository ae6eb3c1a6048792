using PredictionApi.Training.Uploads;

namespace PredictionApi.Training.Evaluation;

/// <summary>One fixed way of presenting an image to the service, for the robustness evaluation. No style: the 28x28 image itself.</summary>
internal sealed record Rendering(string Name, string Description, UploadStyle? Style)
{
    /// <summary>The renderings of the robustness table, each applied to every validation digit.</summary>
    public static IReadOnlyList<Rendering> All { get; } =
    [
        new("mnist-format", "the 28x28 image itself, light on dark (reaches the model unchanged)", null),
        new("clean-upload", "dark on white, digit 60 px tall on a 126 px picture", new UploadStyle()),
        new("thick-strokes", "strokes 1.5 MNIST px wider on each side (marker)", new UploadStyle { Thickness = 1.5f }),
        new("thin-strokes", "strokes 0.6 MNIST px thinner on each side (fine pen)", new UploadStyle { Thickness = -0.6f }),
        new("broken-strokes", "two gaps cut into the strokes (pen skipping)", new UploadStyle { Breaks = 2 }),
        new("blurred", "Gaussian blur, sigma 3 px of the upload (1 MNIST px)", new UploadStyle { Blur = 3 }),
        new("down-up-1/6", "picture reduced to 1/6 of its size (digit 10 px) and enlarged back", new UploadStyle { Through = 0.5f }),
        new("small-10px", "10 px digit on an 18 px picture (low-resolution scan)", new UploadStyle { Scale = 0.5f, Left = 0.15f, Top = 0.15f, Right = 0.15f, Bottom = 0.15f }),
        new("tiny-7px", "7 px digit on a 14 px picture", new UploadStyle { Scale = 0.36f, Left = 0.15f, Top = 0.15f, Right = 0.15f, Bottom = 0.15f }),
        new("binary-16px", "16 px digit on a 22 px two-level picture (bitmap scan thresholded at mid-grey)",
            new UploadStyle { Scale = 0.8f, Left = 0, Top = 0, Right = 0, Bottom = 0, Binarize = 128 }),
        new("stretched", "digit 30 % wider for its height than MNIST's, 60 px tall", new UploadStyle { Aspect = 1.3f }),
        new("off-centre-large", "40 px digit near the top-left corner of a 344x286 picture", new UploadStyle { Scale = 2, Left = 0.15f, Top = 0.1f, Right = 5, Bottom = 4 }),
        new("jpeg-q10", "60 px digit, JPEG quality 10", new UploadStyle { JpegQuality = 10 }),
        new("photographed-paper", "grey ink on grey paper, light falling off by 60 levels, grain, noise, blur 1.5 px, JPEG q60",
            new UploadStyle { Paper = 200, Ink = 70, Gradient = 60, GradientAngle = 0.7f, Grain = 6, Noise = 5, Blur = 1.5f, JpegQuality = 60 }),
        new("small-noisy-scan", "14 px digit, thicker ink, blur, noise, JPEG q50 (phone photo of a small note)",
            new UploadStyle { Scale = 0.7f, Thickness = 0.5f, Blur = 0.7f, Paper = 230, Ink = 50, Noise = 8, JpegQuality = 50 }),
    ];

    /// <summary>
    /// Fashion-MNIST images as product photos: the object drawn dark (its Fashion-MNIST intensity darkens the
    /// background towards black) on a light background, as a shop photographs clothes, then prepared by the
    /// service's fashion profile. Sizes are the object's longer side in upload pixels.
    /// </summary>
    public static IReadOnlyList<Rendering> ProductPhotos { get; } =
    [
        new("fashion-format", "the 28x28 image itself, light on dark (reaches the model unchanged)", null),
        new("product-photo", "dark on white, 112 px on a 168 px picture", new UploadStyle { Scale = 4 }),
        new("off-white-wide", "84 px on a 159x126 picture of level 235, off centre", new UploadStyle { Paper = 235, Left = 0.6f, Right = 0.3f, Top = 0.25f, Bottom = 0.25f }),
        new("grey-backdrop", "84 px on a grey (level 190) background", new UploadStyle { Paper = 190 }),
        new("small-42px", "42 px on a 62 px picture", new UploadStyle { Scale = 1.5f }),
        new("thumbnail-28px", "28 px on a 42 px picture", new UploadStyle { Scale = 1 }),
        new("large-off-centre", "224 px near the top-left corner of a 582x425 picture", new UploadStyle { Scale = 8, Left = 0.1f, Top = 0.1f, Right = 1.5f, Bottom = 0.8f }),
        new("jpeg-q50", "112 px on white, JPEG quality 50", new UploadStyle { Scale = 4, JpegQuality = 50 }),
        new("shop-photo", "112 px on level 240, light falling off by 40 levels, noise, blur 1.5 px, JPEG q75",
            new UploadStyle { Scale = 4, Paper = 240, Gradient = 40, GradientAngle = 0.7f, Noise = 4, Blur = 1.5f, JpegQuality = 75 }),
    ];
}
