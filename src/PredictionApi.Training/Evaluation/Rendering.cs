using PredictionApi.Training.Uploads;

namespace PredictionApi.Training.Evaluation;

/// <summary>One fixed way of presenting a digit to the service, for the robustness evaluation. No style: the 28x28 MNIST image itself.</summary>
internal sealed record Rendering(string Name, string Description, UploadStyle? Style)
{
    /// <summary>The renderings of the robustness table, each applied to every validation digit.</summary>
    public static IReadOnlyList<Rendering> All { get; } =
    [
        new("mnist-format", "the 28x28 image itself, light on dark (reaches the model unchanged)", null),
        new("clean-upload", "dark on white, digit drawn 84 px tall, paper around it", new UploadStyle()),
        new("thick-strokes", "strokes 1.5 MNIST px wider on each side (marker)", new UploadStyle { Thickness = 1.5f }),
        new("thin-strokes", "strokes 0.6 MNIST px thinner on each side (fine pen)", new UploadStyle { Thickness = -0.6f }),
        new("broken-strokes", "two gaps cut into the strokes (pen skipping)", new UploadStyle { Breaks = 2 }),
        new("blurred", "Gaussian blur, sigma 3 px of 84 (1 MNIST px)", new UploadStyle { Blur = 3 }),
        new("down-up-1/6", "84 px digit reduced to 14 px and enlarged back to 84 px", new UploadStyle { Through = 0.5f }),
        new("small-14px", "14 px digit on an 18 px picture (low-resolution scan)", new UploadStyle { Scale = 0.5f, Left = 0.15f, Top = 0.15f, Right = 0.15f, Bottom = 0.15f }),
        new("tiny-10px", "10 px digit on a 13 px picture", new UploadStyle { Scale = 0.36f, Left = 0.15f, Top = 0.15f, Right = 0.15f, Bottom = 0.15f }),
        new("off-centre-large", "56 px digit near the top-left corner of a 344x286 picture", new UploadStyle { Scale = 2, Left = 0.15f, Top = 0.1f, Right = 5, Bottom = 4 }),
        new("jpeg-q10", "84 px digit, JPEG quality 10", new UploadStyle { JpegQuality = 10 }),
        new("photographed-paper", "grey ink on grey paper, light falling off by 60 levels, grain, noise, blur 1.5 px, JPEG q60",
            new UploadStyle { Paper = 200, Ink = 70, Gradient = 60, GradientAngle = 0.7f, Grain = 6, Noise = 5, Blur = 1.5f, JpegQuality = 60 }),
        new("small-noisy-scan", "20 px digit, thicker ink, blur, noise, JPEG q50 (phone photo of a small note)",
            new UploadStyle { Scale = 0.7f, Thickness = 0.5f, Blur = 0.7f, Paper = 230, Ink = 50, Noise = 8, JpegQuality = 50 }),
    ];
}
