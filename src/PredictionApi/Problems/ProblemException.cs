namespace PredictionApi.Problems;

/// <summary>
/// A failure whose <see cref="Status"/>, <see cref="Title"/> and message are written for the caller;
/// <see cref="ApiExceptionHandler"/> answers it as problem details, so handlers need not catch it.
/// </summary>
public class ProblemException(int status, string title, string detail, Exception? inner = null) : Exception(detail, inner)
{
    public int Status { get; } = status;

    public string Title { get; } = title;
}
