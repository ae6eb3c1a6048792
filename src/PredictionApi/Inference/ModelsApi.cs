using Microsoft.AspNetCore.Http.HttpResults;
using PredictionApi.Auth;
using PredictionApi.Problems;

namespace PredictionApi.Inference;

/// <summary>Model metadata, as model servers (Triton, KServe) expose it.</summary>
public static class ModelsApi
{
    public static RouteGroupBuilder MapModels(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/models").WithTags("Models");
        group.MapGet("/", ListModels).WithSummary("The model this service serves.").RequireScope(ApiScope.Read);
        group.MapGet("/{name}", GetModel)
            .WithSummary("Manifest-derived metadata of a model: input name, layout, shape, labels, sha256, version.")
            .RequireScope(ApiScope.Read)
            .ProducesProblem(StatusCodes.Status404NotFound);
        return group;
    }

    public static Ok<ModelInfo[]> ListModels(ImageClassifier classifier) => TypedResults.Ok(new[] { ModelInfo.From(classifier.Spec) });

    public static Results<Ok<ModelInfo>, ProblemHttpResult> GetModel(string name, ImageClassifier classifier) =>
        string.Equals(name, classifier.Spec.Name, StringComparison.Ordinal)
            ? TypedResults.Ok(ModelInfo.From(classifier.Spec))
            : ApiProblems.NotFound($"This service serves the model '{classifier.Spec.Name}', not '{name}'. Another model is served by setting Model__Name.");
}
