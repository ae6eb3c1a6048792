using System.Text.Json;

namespace PredictionApi.Inference;

/// <summary>
/// What GET /models says about a model: the serving version's manifest-derived metadata (null fields while no
/// version serves), the model's state, and every version tried since start.
/// </summary>
public sealed record ModelInfo(
    string Name,
    string? Version,
    string Description,
    string? File,
    string? Sha256,
    ModelInputInfo? Input,
    ModelOutputInfo? Output,
    string[] Labels,
    JsonElement? Metrics)
{
    /// <summary>loading, ready, failed or unloaded.</summary>
    public string State { get; init; } = "ready";

    /// <summary>Why the model has no serving version, when it has none.</summary>
    public string? Reason { get; init; }

    /// <summary>Whether requests that name no model get this one.</summary>
    public bool Default { get; init; }

    public IReadOnlyList<ModelVersionStatus> Versions { get; init; } = [];

    /// <summary>Models that also classify every input this one classifies ("name" or "name:version").</summary>
    public string[] Shadows { get; init; } = [];

    public static ModelInfo Empty(string name) => new(name, null, "", null, null, null, null, [], null);

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
