using System.Text.Json;

namespace PredictionApi.Inference;

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
