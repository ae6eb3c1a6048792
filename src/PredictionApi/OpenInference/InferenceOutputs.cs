using PredictionApi.Inference;

namespace PredictionApi.OpenInference;

/// <summary>
/// The outputs an inference answers with, the same for every model: <c>probabilities</c>, FP32 [batch, classes], one
/// probability per class in the order of the model's labels (softmax applied to logits, as everywhere in the service);
/// and <c>label</c>, BYTES [batch], the most probable label's name. A request's <c>outputs</c> picks among them.
/// </summary>
public static class InferenceOutputs
{
    public const string Probabilities = "probabilities";
    public const string Label = "label";

    private static readonly string[] All = [Probabilities, Label];

    public static MetadataTensor[] Metadata(ModelSpec spec) =>
    [
        new(Probabilities, "FP32", [-1, spec.Output.Classes]),
        new(Label, "BYTES", [-1]),
    ];

    /// <summary>
    /// The outputs a request asks for, in its order; all of them when it names none. Outputs are always JSON: asking for
    /// them as binary data (the protocol's binary extension) is refused rather than ignored.
    /// </summary>
    public static string[] Select(List<RequestOutput?>? requested, Dictionary<string, System.Text.Json.JsonElement>? parameters)
    {
        if (AsksForBinary(parameters, "binary_data_output") || requested?.FindIndex(o => AsksForBinary(o?.Parameters, "binary_data")) is >= 0)
        {
            throw new InvalidInferenceRequestException("Binary output data (the binary data extension) is not supported here; outputs come as JSON. " +
                "Leave out binary_data and binary_data_output.");
        }

        // Triton's classification extension (class_count in its clients) answers top-k "score:index:label" strings of
        // another shape; ignoring it handed such a client plain labels it would misread.
        if (requested?.FindIndex(o => AsksForClassification(o?.Parameters)) is >= 0 and var index)
        {
            throw new InvalidInferenceRequestException($"outputs[{index}] asks for the classification extension (top-k \"score:index:label\" strings), " +
                $"which is not supported here. Leave out classification: '{Label}' gives the most probable label and '{Probabilities}' every class's probability.");
        }

        if (requested is null || requested.Count == 0)
        {
            return All;
        }

        var names = new List<string>();
        for (var i = 0; i < requested.Count; i++)
        {
            var name = requested[i]?.Name;
            if (name is null)
            {
                throw new InvalidInferenceRequestException($"outputs[{i}] has no name; name one of: {string.Join(", ", All)}.");
            }

            if (!All.Contains(name, StringComparer.Ordinal))
            {
                throw new InvalidInferenceRequestException($"outputs[{i}] names '{name}', which this model does not produce; its outputs are: {string.Join(", ", All)} (GET /v2/models/{{model}}).");
            }

            if (names.Contains(name, StringComparer.Ordinal))
            {
                throw new InvalidInferenceRequestException($"outputs[{i}] names '{name}' a second time; name each output once.");
            }

            names.Add(name);
        }

        return names.ToArray();
    }

    private static bool AsksForClassification(Dictionary<string, System.Text.Json.JsonElement>? parameters) =>
        parameters?.TryGetValue("classification", out var value) == true
        && value.ValueKind is not (System.Text.Json.JsonValueKind.Null or System.Text.Json.JsonValueKind.False)
        && !(value.ValueKind == System.Text.Json.JsonValueKind.Number && value.TryGetInt64(out var count) && count == 0);

    private static bool AsksForBinary(Dictionary<string, System.Text.Json.JsonElement>? parameters, string name) =>
        parameters?.TryGetValue(name, out var value) == true && value.ValueKind == System.Text.Json.JsonValueKind.True;

    /// <summary>The named outputs of <paramref name="predictions"/>, one row per batch item.</summary>
    public static ResponseOutput[] Build(string[] names, IReadOnlyList<(float[] Probabilities, int LikelyClass)> predictions, ModelSpec spec) =>
        names.Select(name => name switch
        {
            Probabilities => new ResponseOutput(name, [predictions.Count, spec.Output.Classes], "FP32", predictions.SelectMany(p => p.Probabilities).ToArray()),
            _ => new ResponseOutput(name, [predictions.Count], "BYTES", predictions.Select(p => spec.Labels[p.LikelyClass]).ToArray()),
        }).ToArray();
}
