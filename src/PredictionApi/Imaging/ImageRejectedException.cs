namespace PredictionApi.Imaging;

/// <summary>An upload that cannot become a model input; <see cref="Status"/> is the HTTP answer (4xx).</summary>
public sealed class ImageRejectedException(int status, string title, string detail) : Exception(detail)
{
    public int Status { get; } = status;

    public string Title { get; } = title;
}
