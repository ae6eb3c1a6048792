using PredictionApi.Problems;

namespace PredictionApi.Inference;

/// <summary>A request for a model or version that is not served: 404 when it does not exist or is not loaded, 503 while it is loading or failed.</summary>
public sealed class ModelUnavailableException(int status, string title, string detail) : ProblemException(status, title, detail);
