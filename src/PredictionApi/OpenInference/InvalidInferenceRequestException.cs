using PredictionApi.Problems;

namespace PredictionApi.OpenInference;

/// <summary>A request the protocol or the model refuses: a 400 whose message says what to change.</summary>
public sealed class InvalidInferenceRequestException(string detail, int status = StatusCodes.Status400BadRequest)
    : ProblemException(status, "Invalid inference request", detail);
