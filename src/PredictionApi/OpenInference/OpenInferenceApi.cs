using Microsoft.Extensions.Options;
using Microsoft.AspNetCore.Authorization;
using PredictionApi.Auth;
using PredictionApi.Predictions;

namespace PredictionApi.OpenInference;

/// <summary>
/// The Open Inference Protocol (KServe V2) over REST, every route in one place: server metadata and health, model
/// metadata and readiness, and inference, with and without a version in the path. Errors are the protocol's
/// <c>{"error": "..."}</c> (<see cref="OpenInferenceErrors"/>); every inference is stored as uploads are.
/// </summary>
public static class OpenInferenceApi
{
    public const string Prefix = "/v2";

    /// <summary>Whether a request path is the protocol's, whose errors take its shape.</summary>
    public static bool Owns(PathString path) => path.StartsWithSegments(Prefix);

    /// <summary>Answers the protocol's routes' errors in its shape.</summary>
    public static WebApplicationBuilder AddOpenInference(this WebApplicationBuilder builder)
    {
        // Writers are asked in registration order and the default one takes every JSON request: this one goes first.
        builder.Services.Insert(0, ServiceDescriptor.Singleton<IProblemDetailsWriter, OpenInferenceErrors>());
        return builder;
    }

    public static RouteGroupBuilder MapOpenInference(this IEndpointRouteBuilder routes)
    {
        var v2 = routes.MapGroup(Prefix).WithTags("Open Inference Protocol (V2)");

        v2.MapGet("/", ServerApi.GetMetadata)
            .WithSummary("Server metadata: name, version and the protocol extensions it supports (none).")
            .RequireScope(ApiScope.Read);
        v2.MapGet("/health/live", ServerApi.GetLive)
            .WithSummary("Server live: 200 {\"live\": true} while the process answers.")
            .AllowAnonymous();
        v2.MapGet("/health/ready", ServerApi.GetReady)
            .WithSummary("Server ready: 200 {\"ready\": true} when the default model serves and PostgreSQL answers; 503 {\"ready\": false} otherwise.")
            .Produces<ServerReady>(StatusCodes.Status503ServiceUnavailable)
            .AllowAnonymous();

        v2.MapGet("/models/{model}", ModelMetadataApi.GetServing)
            .WithSummary("Model metadata of the serving version: loaded versions, platform, the FP32 input and the outputs, -1 for the batch.")
            .ProducesError(StatusCodes.Status404NotFound, StatusCodes.Status503ServiceUnavailable)
            .RequireScope(ApiScope.Read);
        v2.MapGet("/models/{model}/versions/{version}", ModelMetadataApi.GetVersion)
            .WithSummary("Model metadata of a loaded version.")
            .ProducesError(StatusCodes.Status404NotFound)
            .RequireScope(ApiScope.Read);
        v2.MapGet("/models/{model}/ready", ModelMetadataApi.GetServingReady)
            .WithSummary("Model ready: 200 {\"name\", \"ready\": true} while a version serves; 503 with ready false while it is loading, failed or unloaded.")
            .Produces<ModelReady>(StatusCodes.Status503ServiceUnavailable)
            .ProducesError(StatusCodes.Status404NotFound)
            .RequireScope(ApiScope.Read);
        v2.MapGet("/models/{model}/versions/{version}/ready", ModelMetadataApi.GetVersionReady)
            .WithSummary("Version ready: 200 while the version is loaded; 503 with ready false for a known version that is not.")
            .Produces<ModelReady>(StatusCodes.Status503ServiceUnavailable)
            .ProducesError(StatusCodes.Status404NotFound)
            .RequireScope(ApiScope.Read);

        const string inferDescription =
            "One input, named as the model's input: FP32 shaped as the model's input, batch first (data flat or nested, row-major), " +
            "or BYTES of shape [batch] holding base64-encoded images (PNG, JPEG, GIF, BMP, WebP), preprocessed as uploads are. " +
            "Outputs: probabilities (FP32 [batch, classes]) and label (BYTES [batch]); outputs picks among them. Every item is stored " +
            "as an input and its prediction (a tensor as little-endian float32 bytes, application/x-tensor); parameters.prediction_ids " +
            "and parameters.input_ids list the stored ids, comma-separated, in batch order. Errors are {\"error\": \"...\"}.";
        v2.MapPost("/models/{model}/infer", InferenceApi.InferServing)
            .WithSummary("Inference with the serving version of a model; every item is stored.")
            .WithDescription(inferDescription)
            .InfersAndStores();
        v2.MapPost("/models/{model}/versions/{version}/infer", InferenceApi.InferVersion)
            .WithSummary("Inference with a loaded version of a model; every item is stored.")
            .WithDescription(inferDescription)
            .InfersAndStores();
        return v2;
    }

    private static RouteHandlerBuilder InfersAndStores(this RouteHandlerBuilder builder) => builder
        .Accepts<InferenceRequest>("application/json")
        .DisableAntiforgery()
        .RequireAdmission(services => InferenceApi.LargestBody(services.GetRequiredService<IOptions<BatchOptions>>().Value))
        .RequireScope(ApiScope.Predict)
        .ProducesError(StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound, StatusCodes.Status408RequestTimeout,
            StatusCodes.Status413PayloadTooLarge, StatusCodes.Status415UnsupportedMediaType, StatusCodes.Status503ServiceUnavailable);

    /// <summary>Declares the protocol's error body for these statuses.</summary>
    private static RouteHandlerBuilder ProducesError(this RouteHandlerBuilder builder, params int[] statuses)
    {
        foreach (var status in statuses)
        {
            builder.Produces<InferenceError>(status, "application/json");
        }

        return builder;
    }
}
