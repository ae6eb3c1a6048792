using System.Text.Json;

namespace PredictionApi.Inference;

/// <summary>
/// The keys the input and output sections of model.json may hold. A key the service does not know there is refused
/// rather than skipped: a misspelt "scaling" or "kind" would otherwise serve the model with defaults that change its
/// answers, and nobody would see why. Top-level keys the service does not read (author, license, framework) are
/// provenance that exporters and people add, and change no answer, so they are left alone.
/// </summary>
internal static class ManifestKeys
{
    private static readonly string[] Input = ["name", "layout", "height", "width", "channels", "channel_order", "scaling", "mean", "std", "resize", "background", "profile"];
    private static readonly string[] Output = ["name", "kind"];

    /// <summary>Throws <see cref="ModelConfigurationException"/> naming the first unknown key and the keys allowed where it is.</summary>
    public static void Check(JsonElement manifest, string source)
    {
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
                    $"{source}: '{prefix}{property.Name}' is not a manifest key; {prefix.TrimEnd('.')} takes {string.Join(", ", keys)} (see models/README.md).");
            }
        }
    }
}
