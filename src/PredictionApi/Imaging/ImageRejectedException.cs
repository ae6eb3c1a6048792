using PredictionApi.Problems;

namespace PredictionApi.Imaging;

/// <summary>An upload that cannot become a model input; <see cref="ProblemException.Status"/> is the HTTP answer (4xx).</summary>
public sealed class ImageRejectedException(int status, string title, string detail) : ProblemException(status, title, detail);
