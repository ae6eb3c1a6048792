using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using PredictionApi.Problems;

namespace PredictionApi.Predictions;

/// <summary>Prediction ids in routes: positive whole numbers; anything else is a 400, an unknown id a 404.</summary>
internal static class PredictionIds
{
    public static bool TryParse(string text, out long id, out ProblemHttpResult problem)
    {
        if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out id) && id > 0)
        {
            problem = null!;
            return true;
        }

        problem = ApiProblems.BadRequest($"'{text}' is not a prediction id; ids are positive whole numbers such as 42.", "Invalid id");
        return false;
    }

    public static ProblemHttpResult NotFound(string id) => ApiProblems.NotFound($"There is no prediction {id}.");
}
