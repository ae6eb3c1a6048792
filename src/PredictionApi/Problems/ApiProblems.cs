using Microsoft.AspNetCore.Http.HttpResults;

namespace PredictionApi.Problems;

/// <summary>
/// The RFC 7807 answers the API gives, in one place so titles stay consistent. Details are written for
/// the caller: what was wrong and how to fix it, never a stack trace, SQL or a server path.
/// </summary>
internal static class ApiProblems
{
    public static ProblemHttpResult BadRequest(string detail, string title = "Bad request") =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status400BadRequest, title: title);

    public static ProblemHttpResult NotFound(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status404NotFound, title: "Not found");

    public static ProblemHttpResult PayloadTooLarge(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status413PayloadTooLarge, title: "Payload too large");

    public static ProblemHttpResult UnsupportedMediaType(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Unsupported media type");

    public static ProblemHttpResult Problem(int status, string title, string detail) =>
        TypedResults.Problem(detail, statusCode: status, title: title);
}
