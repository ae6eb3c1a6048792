namespace PredictionApi.Inference;

public sealed record ManifestInput
{
    public string? Name { get; init; }

    public string? Layout { get; init; }

    public int? Height { get; init; }

    public int? Width { get; init; }

    public int? Channels { get; init; }

    public string? ChannelOrder { get; init; }

    public string? Scaling { get; init; }

    public float[]? Mean { get; init; }

    public float[]? Std { get; init; }

    public string? Resize { get; init; }

    public string? Background { get; init; }

    public string? Profile { get; init; }
}
