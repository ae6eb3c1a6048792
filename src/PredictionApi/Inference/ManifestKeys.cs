using System.Text.Json;

namespace PredictionApi.Inference;

/// <summary>
/// The keys model.json may hold. A key the service does not know is refused rather than skipped: a misspelt
/// "scaling" or "lables" would otherwise serve the model with defaults that change its answers, and nobody would see why.
/// Free-form notes go under metrics or training, whose contents are not checked.
/// </summary>
internal static class ManifestKeys
{
    private static readonly string[] TopLevel = ["name", "version", "description", "file", "sha256", "shadows", "input", "output", "labels", "metrics", "training"];
    private static readonly string[] Input = ["name", "layout", "height", "width", "channels", "channel_order", "scaling", "mean", "std", "resize", "background", "profile"];
    private static readonly string[] Output = ["name", "kind"];

    /// <summary>Throws <see cref="ModelConfigurationException"/> naming the first unknown key and the keys allowed where it is.</summary>
    public static void Check(JsonElement manifest, string source)
    {
        Check(manifest, "", TopLevel, source);
        foreach (var (section, keys) in new[] { ("input", Input), ("output", Output) })
        {
            if (manifest.TryGetProperty(section, out var value) && value.ValueKind == JsonValueKind.Object)
            {
                Check(value, section + ".", keys, source);
            }
        }
    }

    private static void Check(JsonElement section, string prefix, string[] keys, string source)
    {
        foreach (var property in section.EnumerateObject())
        {
            if (!keys.Contains(property.Name, StringComparer.Ordinal))
            {
                throw new ModelConfigurationException(
                    $"{source}: '{prefix}{property.Name}' is not a manifest key; {(prefix.Length == 0 ? "the manifest" : prefix.TrimEnd('.'))} takes " +
                    $"{string.Join(", ", keys)} (free-form notes go under metrics or training; see models/README.md).");
            }
        }
    }
}
