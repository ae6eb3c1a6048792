namespace PredictionApi.Inference;

/// <summary>A model named by a request or a shadow list: "name" (its serving version) or "name:version".</summary>
public readonly record struct ModelSelector(string Name, string? Version)
{
    public static bool TryParse(string? text, out ModelSelector selector)
    {
        selector = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var colon = text.IndexOf(':');
        var name = colon < 0 ? text : text[..colon];
        var version = colon < 0 ? null : text[(colon + 1)..];
        if (!ModelFolders.IsValidName(name) || (version is not null && !ModelFolders.IsValidName(version)))
        {
            return false;
        }

        selector = new ModelSelector(name, version);
        return true;
    }

    public override string ToString() => Version is null ? Name : $"{Name}:{Version}";
}
