using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using PredictionApi.Auth;
using PredictionApi.Imaging;
using PredictionApi.Inference;
using PredictionApi.Predictions;
using PredictionApi.Problems;

namespace PredictionApi.OpenInference;

/// <summary>
/// POST /v2/models/{model}[/versions/{version}]/infer: classifies the request's FP32 tensors or encoded images and stores
/// every item as an input and its prediction, like an upload, before answering. The whole request is checked, decoded
/// and classified first, and its rows are written together through <see cref="PredictionWriter"/> (group commit), so a
/// refused request stores nothing and an answered one is stored completely.
/// </summary>
public static class InferenceApi
{
    /// <summary>What an inference uses, from the container.</summary>
    public readonly record struct InferenceServices(
        ModelRegistry Models,
        PredictionWriter Writer,
        ShadowQueue Shadows,
        IOptions<BatchOptions> Batch,
        IOptions<UploadOptions> Upload);

    // The protocol's own field names, read strictly: numbers as numbers, names as written, each name once (by default the
    // last of two "inputs" won, so a proxy that checked the first let through a request the service read differently).
    private static readonly JsonSerializerOptions RequestJson = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.Strict,
        AllowDuplicateProperties = false,
    };

    public static Task<Ok<InferenceResponse>> InferServing(string model, HttpContext context, [AsParameters] InferenceServices services, CancellationToken cancellationToken) =>
        InferAsync(model, null, context, services, cancellationToken);

    public static Task<Ok<InferenceResponse>> InferVersion(string model, string version, HttpContext context, [AsParameters] InferenceServices services, CancellationToken cancellationToken) =>
        InferAsync(model, version, context, services, cancellationToken);

    private static async Task<Ok<InferenceResponse>> InferAsync(string model, string? version, HttpContext context, InferenceServices services, CancellationToken cancellationToken)
    {
        var batch = services.Batch.Value;
        using var lease = services.Models.Acquire(model, version);
        var spec = lease.Spec;
        var request = await ReadAsync(context, LargestBody(batch), cancellationToken);
        var outputs = InferenceOutputs.Select(request.Outputs, request.Parameters);
        var input = ModelInput.Read(request, spec, batch.MaxFiles, services.Upload.Value.MaxBytes);

        var rows = new List<(RecordedUpload Upload, NewPrediction Prediction)>(input.Count);
        if (input.Tensors is { } tensors)
        {
            var length = spec.Input.TensorLength;
            var predicted = PredictTensors(lease.Predictor, tensors, input.Count);
            for (var i = 0; i < input.Count; i++)
            {
                rows.Add((StoredTensor.Upload(FileName(request.Id, spec.Input.Name, i), tensors.AsSpan(i * length, length), spec.Input), NewPrediction.Of(predicted[i], spec) with { CreatedBy = CallerKey.NameOf(context) }));
            }
        }
        else
        {
            var images = input.Images!;
            for (var i = 0; i < input.Count; i++)
            {
                var predicted = await PredictImageAsync(lease.Predictor, images[i], i);
                rows.Add((new RecordedUpload(FileName(request.Id, spec.Input.Name, i), images[i], predicted.Header), NewPrediction.Of(predicted, spec) with { CreatedBy = CallerKey.NameOf(context) }));
            }
        }

        var stored = (await services.Writer.RecordAsync(rows, null, cancellationToken)).Stored;
        if (input.Images is { } shadowed)
        {
            // Shadow models read images; a tensor is shaped for this model only, so it is not shadowed.
            services.Shadows.Enqueue(spec, stored.Select((ids, i) => (ids.InputId, (ReadOnlyMemory<byte>)shadowed[i])).ToList(), CallerKey.NameOf(context));
        }

        var parameters = new Dictionary<string, string>
        {
            [InferenceParameters.PredictionIds] = string.Join(',', stored.Select(s => s.PredictionId.ToString(CultureInfo.InvariantCulture))),
            [InferenceParameters.InputIds] = string.Join(',', stored.Select(s => s.InputId.ToString(CultureInfo.InvariantCulture))),
        };
        var answers = rows.Select(r => (r.Prediction.Probabilities, r.Prediction.LikelyClass)).ToList();
        return TypedResults.Ok(new InferenceResponse(spec.Name, spec.Version, request.Id, parameters, InferenceOutputs.Build(outputs, answers, spec)));
    }

    /// <summary>The header of the protocol's binary data extension: the length of the JSON part before raw tensor bytes.</summary>
    private const string BinaryHeader = "Inference-Header-Content-Length";

    private static async Task<InferenceRequest> ReadAsync(HttpContext context, long maxBytes, CancellationToken cancellationToken)
    {
        // Room for a full batch of images in base64, or of tensors written out as JSON numbers. A chunked body is held to it
        // as it is read (BoundedBody): Kestrel's own limit would reset the connection under a client still sending it.
        var body = BoundedBody.Of(context.Request, maxBytes,
            () => new InvalidInferenceRequestException($"The body is larger than the {maxBytes} bytes an inference request may have.", StatusCodes.Status413PayloadTooLarge));

        if (context.Request.Headers.ContainsKey(BinaryHeader))
        {
            // A binary body would otherwise be read as malformed JSON, which does not say what to change.
            throw new InvalidInferenceRequestException($"The binary data extension ({BinaryHeader}) is not supported here: send a tensor's " +
                "elements as JSON numbers in \"data\", or an encoded image as base64 in a BYTES input.");
        }

        if (RequestBodies.NonUtf8JsonDetail(context.Request) is { } charset)
        {
            throw new InvalidInferenceRequestException(charset, StatusCodes.Status415UnsupportedMediaType);
        }

        try
        {
            return await JsonSerializer.DeserializeAsync<InferenceRequest>(body, RequestJson, cancellationToken)
                ?? throw new InvalidInferenceRequestException("The body is null; send an inference request object, {\"inputs\": [...]}.");
        }
        catch (JsonException e)
        {
            // The deserializer's own message names .NET types; say where the body went wrong instead.
            var at = e.LineNumber is { } line ? $" (line {line + 1}, byte {e.BytePositionInLine + 1})" : "";
            throw new InvalidInferenceRequestException(
                $"The body is not an inference request: malformed JSON, a field of the wrong type, or a field named twice, at {e.Path ?? "$"}{at}. " +
                "Send {\"id\": \"...\", \"inputs\": [{\"name\", \"shape\", \"datatype\", \"data\"}], \"outputs\": [{\"name\"}]}.");
        }
    }

    /// <summary>The most of a request body read: base64 images are a third larger than the batch of files they would be.</summary>
    public static long LargestBody(BatchOptions batch) => 2 * batch.MaxTotalBytes;

    private static TensorPrediction[] PredictTensors(ImagePredictor predictor, float[] tensors, int count)
    {
        try
        {
            return predictor.PredictTensors(tensors, count);
        }
        catch (UnusableOutputException e)
        {
            // Any finite float is a valid element, but the model's output need not stay usable for all of them.
            throw new InvalidInferenceRequestException(
                $"The model's output for this tensor cannot be read as probabilities: {e.Message} Its values may be far outside the range the model takes (an image's pixels after preprocessing).");
        }
    }

    private static async Task<ImagePrediction> PredictImageAsync(ImagePredictor predictor, byte[] image, int index)
    {
        try
        {
            return await predictor.PredictAsync(image);
        }
        catch (ImageRejectedException e) when (e.Status < StatusCodes.Status500InternalServerError)
        {
            // The JSON body is of the right media type; an element that is no image is a bad request, not a 415.
            var status = e.Status == StatusCodes.Status415UnsupportedMediaType ? StatusCodes.Status400BadRequest : e.Status;
            throw new InvalidInferenceRequestException($"inputs[0].data element {index}: {e.Message}", status);
        }
    }

    /// <summary>The stored file name of batch item <paramref name="index"/>: the request's id (when it has one) and the input element.</summary>
    private static string FileName(string? id, string input, int index) =>
        FileNames.Clean(id is null ? $"{input}[{index}]" : $"{id} {input}[{index}]");
}
