using Microsoft.AspNetCore.Http.HttpResults;
using PredictionApi.Auth;
using PredictionApi.Problems;

namespace PredictionApi.Inference;

/// <summary>Models and their versions, as model servers (Triton, KServe) expose them, and loading and unloading them live.</summary>
public static class ModelsApi
{
    public static RouteGroupBuilder MapModels(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/models").WithTags("Models");
        group.MapGet("/", ListModels).WithSummary("Every model, its serving version's metadata, its state (loading, ready, failed, unloaded) and its versions.")
            .RequireScope(ApiScope.Read);
        group.MapGet("/{name}", GetModel)
            .WithSummary("Manifest-derived metadata of a model's serving version (input name, layout, shape, labels, sha256), its state and versions.")
            .RequireScope(ApiScope.Read)
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPost("/{name}/load", LoadModel)
            .AcceptsOnlyQuery("version", "serve")
            .WithSummary("Load a version (default: the pinned or highest one) and, unless serve=false, swap it in once it is warmed up.")
            .WithDescription("Requests in flight finish on the version they started with. A version that fails to load leaves the serving one " +
                "untouched (422, and the reason in GET /models).")
            .RequireScope(ApiScope.Admin)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        group.MapPost("/{name}/unload", UnloadModel)
            .AcceptsOnlyQuery("version")
            .WithSummary("Unload a version, or every version of the model; requests in flight finish first.")
            .RequireScope(ApiScope.Admin)
            .ProducesProblem(StatusCodes.Status404NotFound);
        return group;
    }

    public static Ok<IReadOnlyList<ModelInfo>> ListModels(ModelRegistry models) => TypedResults.Ok(models.Describe());

    public static Results<Ok<ModelInfo>, ProblemHttpResult> GetModel(string name, ModelRegistry models) =>
        models.Describe(name) is { } info
            ? TypedResults.Ok(info)
            : ApiProblems.NotFound(models.NoSuchModel(name));

    public static async Task<Results<Ok<ModelInfo>, ProblemHttpResult>> LoadModel(
        string name, string? version, string? serve, ModelRegistry models, CancellationToken cancellationToken)
    {
        if (!ModelFolders.IsValidName(name) || (version is not null && !ModelFolders.IsValidName(version)))
        {
            return ApiProblems.BadRequest("Model names and versions are folder names: letters, digits, '.', '_' and '-'.");
        }

        if (serve is not (null or "true" or "false"))
        {
            return ApiProblems.BadRequest($"serve must be true or false, not '{serve}'.");
        }

        // The load outlives a client that hangs up: a half-done swap would help nobody.
        return TypedResults.Ok(await models.LoadAsync(name, version, serve != "false", CancellationToken.None));
    }

    public static async Task<Results<Ok<ModelInfo>, ProblemHttpResult>> UnloadModel(string name, string? version, ModelRegistry models, CancellationToken cancellationToken) =>
        TypedResults.Ok(await models.UnloadAsync(name, version, cancellationToken));
}
