namespace PredictionApi.Inference;

public sealed record ManifestOutput
{
    public string? Name { get; init; }

    public string? Kind { get; init; }
}
