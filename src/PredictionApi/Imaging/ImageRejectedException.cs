using PredictionApi.Problems;

namespace PredictionApi.Imaging;

/// <summary>An upload that cannot become a model input, or whose model output cannot become probabilities; <see cref="ProblemException.Status"/> is the HTTP answer (4xx, or 503 when the service is too busy to decode it now).</summary>
public sealed class ImageRejectedException(int status, string title, string detail) : ProblemException(status, title, detail)
{
    /// <summary>A 400 for a file that starts like <paramref name="format"/> but <paramref name="why"/>.</summary>
    public static ImageRejectedException Corrupt(ImageFormat format, string why) =>
        new(StatusCodes.Status400BadRequest, "Corrupt image", $"The file starts like a {format.ToString().ToUpperInvariant()} image but {why}.");
}
