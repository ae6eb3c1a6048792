using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using PredictionApi.Problems;

namespace PredictionApi.Inference;

/// <summary>Model metadata, as model servers (Triton, KServe) expose it.</summary>
public static class ModelsApi
{
    public static RouteGroupBuilder MapModels(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/models").WithTags("Models");
        group.MapGet("/", ListModels).WithSummary("The model this service serves.");
        group.MapGet("/{name}", GetModel)
            .WithSummary("Manifest-derived metadata of a model: input name, layout, shape, labels, sha256, version.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        return group;
    }

    public static Ok<ModelInfo[]> ListModels(ImageClassifier classifier) => TypedResults.Ok(new[] { ModelInfo.From(classifier.Spec) });

    public static Results<Ok<ModelInfo>, ProblemHttpResult> GetModel(string name, ImageClassifier classifier) =>
        string.Equals(name, classifier.Spec.Name, StringComparison.Ordinal)
            ? TypedResults.Ok(ModelInfo.From(classifier.Spec))
            : ApiProblems.NotFound($"This service serves the model '{classifier.Spec.Name}', not '{name}'. Another model is served by setting Model__Name.");
}

public sealed record ModelInfo(
    string Name,
    string Version,
    string Description,
    string File,
    string Sha256,
    ModelInputInfo Input,
    ModelOutputInfo Output,
    string[] Labels,
    JsonElement? Metrics)
{
    public static ModelInfo From(ModelSpec spec)
    {
        var i = spec.Input;
        return new ModelInfo(spec.Name, spec.Version, spec.Description, spec.File, spec.Sha256,
            new ModelInputInfo(i.Name, i.Layout.ToString(), spec.InputDimensions, i.Height, i.Width, i.Channels, i.Bgr ? "bgr" : "rgb",
                i.Scaling.ToString().ToLowerInvariant(), i.Mean, i.Std, i.Resize.ToString().ToLowerInvariant(), i.Background.ToString(),
                i.Profile.ToString().ToLowerInvariant()),
            new ModelOutputInfo(spec.Output.Name, spec.Output.Kind == OutputKind.Auto ? "auto" : spec.Output.Kind.ToString().ToLowerInvariant(), spec.Output.Classes),
            spec.Labels, spec.Metrics);
    }
}

/// <param name="Shape">The ONNX input dimensions; -1 marks a dynamic one (the batch).</param>
public sealed record ModelInputInfo(
    string Name,
    string Layout,
    int[] Shape,
    int Height,
    int Width,
    int Channels,
    string ChannelOrder,
    string Scaling,
    float[] Mean,
    float[] Std,
    string Resize,
    string Background,
    string Profile);

public sealed record ModelOutputInfo(string Name, string Kind, int Classes);
