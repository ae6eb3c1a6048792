using Microsoft.AspNetCore.Http.HttpResults;
using PredictionApi.Inference;

namespace PredictionApi.OpenInference;

/// <summary>GET /v2/models/{model}[/versions/{version}] and its /ready: a model's tensors and whether it takes requests.</summary>
public static class ModelMetadataApi
{
    /// <summary>Every model is an ONNX graph run by ONNX Runtime.</summary>
    public const string Platform = "onnx_onnxv1";

    public static Ok<ModelMetadata> GetServing(string model, ModelRegistry models) => Describe(model, null, models);

    public static Ok<ModelMetadata> GetVersion(string model, string version, ModelRegistry models) => Describe(model, version, models);

    /// <summary>Ready (200) while a version serves requests that name none; 503 while the model is loading, failed or unloaded.</summary>
    public static Results<Ok<ModelReady>, JsonHttpResult<ModelReady>> GetServingReady(string model, ModelRegistry models)
    {
        var info = models.Describe(model) ?? throw UnknownModel(model, models);
        return Ready(info.Name, info.State == "ready");
    }

    /// <summary>Ready (200) while the version is loaded; 503 for a version that is known (on disk, or tried) but not loaded.</summary>
    public static Results<Ok<ModelReady>, JsonHttpResult<ModelReady>> GetVersionReady(string model, string version, ModelRegistry models)
    {
        var info = models.Describe(model) ?? throw UnknownModel(model, models);
        var status = info.Versions.FirstOrDefault(v => v.Version == version)
            ?? throw new ModelUnavailableException(StatusCodes.Status404NotFound, "Unknown version",
                $"The model '{model}' has no version '{version}'. Versions: {string.Join(", ", info.Versions.Select(v => v.Version).DefaultIfEmpty("none"))}.");
        return Ready(info.Name, status.State == "ready");
    }

    private static Ok<ModelMetadata> Describe(string model, string? version, ModelRegistry models)
    {
        // The lease answers 404 or 503 as an inference would, and holds the version while it is described.
        using var lease = models.Acquire(model, version);
        var spec = lease.Spec;
        var versions = models.Describe(model)?.Versions.Where(v => v.State == "ready").Select(v => v.Version).ToArray() ?? [spec.Version];
        return TypedResults.Ok(new ModelMetadata(spec.Name, versions, Platform,
            [new MetadataTensor(spec.Input.Name, "FP32", ModelInput.Shape(spec))], InferenceOutputs.Metadata(spec)));
    }

    private static Results<Ok<ModelReady>, JsonHttpResult<ModelReady>> Ready(string name, bool ready) => ready
        ? TypedResults.Ok(new ModelReady(name, true))
        : TypedResults.Json(new ModelReady(name, false), statusCode: StatusCodes.Status503ServiceUnavailable);

    private static ModelUnavailableException UnknownModel(string model, ModelRegistry models) =>
        new(StatusCodes.Status404NotFound, "Unknown model", models.NoSuchModel(model, "GET /v2/models/{model}"));
}
