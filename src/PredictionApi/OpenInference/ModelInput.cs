using System.Text.Json;
using PredictionApi.Inference;

namespace PredictionApi.OpenInference;

/// <summary>
/// What a model's one input accepts over the protocol, under the model's input name: an FP32 tensor already shaped for
/// it, batch dimension first, taken exactly as sent; or a BYTES tensor of shape [batch] (or [batch, 1]) whose elements
/// are base64-encoded images (PNG, JPEG, GIF, BMP, WebP), preprocessed as an upload is.
/// </summary>
internal static class ModelInput
{
    private static readonly string[] Datatypes = ["BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32", "INT64", "FP16", "FP32", "FP64", "BYTES"];

    /// <summary>The FP32 shape the model takes: -1 for the batch unless the ONNX graph fixes it, then the input's dimensions.</summary>
    public static long[] Shape(ModelSpec spec) => [spec.InputDimensions[0] > 0 ? spec.InputDimensions[0] : -1, .. spec.ModelInputShape[1..]];

    /// <summary>Checks the request's inputs against <paramref name="spec"/> and reads them; throws a 4xx naming what is wrong.</summary>
    public static InputBatch Read(InferenceRequest request, ModelSpec spec, int maxItems, long maxImageBytes)
    {
        var expected = spec.Input.Name;
        var accepts = $"FP32 shaped [{string.Join(", ", Shape(spec))}] or BYTES holding base64-encoded images";
        if (request.Inputs is not { Count: > 0 } inputs)
        {
            throw new InvalidInferenceRequestException($"The request has no inputs; send one input named '{expected}': {accepts}.");
        }

        if (inputs.Count > 1)
        {
            throw new InvalidInferenceRequestException($"The request has {inputs.Count} inputs but the model takes one, '{expected}': {accepts}.");
        }

        const string where = "inputs[0]";
        var input = inputs[0] ?? throw new InvalidInferenceRequestException($"{where} is null; send one input named '{expected}': {accepts}.");
        if (input.Name != expected)
        {
            throw new InvalidInferenceRequestException(input.Name is null
                ? $"{where} has no name; the model's input is '{expected}'."
                : $"{where} is named '{input.Name}' but the model's input is '{expected}'.");
        }

        if (input.Shape is not { } shape)
        {
            throw new InvalidInferenceRequestException($"{where} has no shape; send the tensor's dimensions, [batch, ...].");
        }

        if (input.Data is not { } data)
        {
            throw new InvalidInferenceRequestException($"{where} has no data; send the tensor's elements, row-major, flat or nested.");
        }

        if (shape.Any(d => d < 0))
        {
            throw new InvalidInferenceRequestException($"{where} has shape [{string.Join(", ", shape)}]; dimensions are sizes, 0 or more.");
        }

        return input.Datatype switch
        {
            "FP32" => ReadTensors(shape, data, spec, maxItems, where),
            "BYTES" => ReadImages(input, shape, data, maxItems, maxImageBytes, where),
            null => throw new InvalidInferenceRequestException($"{where} has no datatype; the model takes {accepts}."),
            var other when Datatypes.Contains(other, StringComparer.Ordinal) =>
                throw new InvalidInferenceRequestException($"{where} is {other}; the model takes {accepts}."),
            var other => throw new InvalidInferenceRequestException(
                $"{where} has datatype '{other}', which is not one of the protocol's ({string.Join(", ", Datatypes)}; case matters); the model takes {accepts}."),
        };
    }

    private static InputBatch ReadTensors(long[] shape, JsonElement data, ModelSpec spec, int maxItems, string where)
    {
        var expected = Shape(spec);
        var fits = shape.Length == expected.Length && shape.Zip(expected).All(d => d.Second == -1 || d.First == d.Second);
        if (!fits)
        {
            throw new InvalidInferenceRequestException(
                $"{where} has shape [{string.Join(", ", shape)}] but the model takes FP32 [{string.Join(", ", expected)}] ({spec.Input.Layout}; -1 is the batch size).");
        }

        var count = CheckBatch(shape[0], maxItems, where);
        return new InputBatch(count, TensorData.ReadFloats(data, shape, where), null);
    }

    private static InputBatch ReadImages(RequestInput input, long[] shape, JsonElement data, int maxItems, long maxImageBytes, string where)
    {
        if (input.Parameters?.GetValueOrDefault(InferenceParameters.ContentType) is { } encoding
            && (encoding.ValueKind != JsonValueKind.String || encoding.GetString() != InferenceParameters.Base64))
        {
            throw new InvalidInferenceRequestException(
                $"{where}.parameters.{InferenceParameters.ContentType} is {encoding.GetRawText()}; BYTES inputs are read as '{InferenceParameters.Base64}' only (leave it out or send \"{InferenceParameters.Base64}\").");
        }

        if (shape.Length is not (1 or 2) || shape.Length == 2 && shape[1] != 1)
        {
            throw new InvalidInferenceRequestException(
                $"{where} is BYTES with shape [{string.Join(", ", shape)}]; images are sent as shape [batch] (or [batch, 1]), one base64 string per image.");
        }

        var count = CheckBatch(shape[0], maxItems, where);
        var strings = TensorData.ReadStrings(data, shape, where);
        var images = new byte[count][];
        for (var i = 0; i < count; i++)
        {
            images[i] = Decode(strings[i], maxImageBytes, $"{where}.data element {i}");
        }

        return new InputBatch(count, null, images);
    }

    private static int CheckBatch(long batch, int maxItems, string where)
    {
        if (batch < 1)
        {
            throw new InvalidInferenceRequestException($"{where} has a batch of {batch}; send at least one item.");
        }

        if (batch > maxItems)
        {
            throw new InvalidInferenceRequestException(
                $"{where} has a batch of {batch}; at most {maxItems} items are taken at once (Batch:MaxFiles). Split it.", StatusCodes.Status413PayloadTooLarge);
        }

        return (int)batch;
    }

    /// <summary>Strict standard base64 (RFC 4648 section 4, padded; whitespace is ignored), at most <paramref name="maxBytes"/> decoded.</summary>
    private static byte[] Decode(string text, long maxBytes, string what)
    {
        if (text.Length == 0)
        {
            throw new InvalidInferenceRequestException($"{what} is empty; send the image's bytes in base64.");
        }

        // Three bytes per four characters: the decoded size is known before anything is decoded.
        if ((long)text.Length / 4 * 3 > maxBytes + 2)
        {
            throw new InvalidInferenceRequestException($"{what} is larger than the {maxBytes} bytes an image may have (Upload:MaxBytes).", StatusCodes.Status413PayloadTooLarge);
        }

        var buffer = new byte[text.Length / 4 * 3 + 3];
        if (!Convert.TryFromBase64String(text, buffer, out var written))
        {
            throw new InvalidInferenceRequestException(
                $"{what} is not base64; BYTES elements carry the image file's bytes in standard base64 (A-Z, a-z, 0-9, '+', '/', '=' padding).");
        }

        if (written > maxBytes)
        {
            throw new InvalidInferenceRequestException($"{what} is larger than the {maxBytes} bytes an image may have (Upload:MaxBytes).", StatusCodes.Status413PayloadTooLarge);
        }

        return buffer[..written];
    }
}
