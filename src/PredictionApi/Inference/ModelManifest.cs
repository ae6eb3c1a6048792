using System.Text.Json;
using System.Text.Json.Serialization;

namespace PredictionApi.Inference;

/// <summary>
/// model.json as written (see models/README.md): every field optional; <see cref="ModelSpec.Resolve"/>
/// fills the gaps from the ONNX metadata and the defaults.
/// </summary>
public sealed record ModelManifest
{
    public string? Name { get; init; }

    public string? Version { get; init; }

    public string? Description { get; init; }

    public string? File { get; init; }

    public string? Sha256 { get; init; }

    public ManifestInput? Input { get; init; }

    public ManifestOutput? Output { get; init; }

    public string[]? Labels { get; init; }

    public JsonElement? Metrics { get; init; }

    /// <summary>Models ("name" or "name:version") that also classify every input this model classifies.</summary>
    public string[]? Shadows { get; init; }

    public JsonElement? Training { get; init; }

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        NumberHandling = JsonNumberHandling.AllowReadingFromString,
    };

    /// <summary>Parses manifest text; a syntax or type error names the place it occurred.</summary>
    public static ModelManifest Parse(string json, string source)
    {
        try
        {
            var manifest = JsonSerializer.Deserialize<ModelManifest>(json, JsonOptions)
                ?? throw new ModelConfigurationException($"{source} is empty; write a JSON object (see models/README.md).");
            using var document = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            ManifestKeys.Check(document.RootElement, source);
            return manifest;
        }
        catch (JsonException e)
        {
            throw new ModelConfigurationException($"{source} is not a valid manifest: {e.Message} (see models/README.md).");
        }
    }
}
