using System.Text.RegularExpressions;

namespace PredictionApi.Inference;

/// <summary>Finds model folders, and the versions in them, under a models directory.</summary>
public static partial class ModelFolders
{
    /// <summary>Every model folder in <paramref name="directory"/>, by name.</summary>
    public static IReadOnlyList<ModelFolder> Scan(string directory) =>
        Directory.Exists(directory)
            ? Directory.GetDirectories(directory).Select(Read).OfType<ModelFolder>().OrderBy(m => m.Name, StringComparer.Ordinal).ToList()
            : [];

    /// <summary>The model folder <paramref name="name"/>, or null when there is none.</summary>
    public static ModelFolder? Find(string directory, string name) =>
        ValidName().IsMatch(name) ? Read(Path.Combine(directory, name)) : null;

    /// <summary>Whether a model or version name can name a folder (no path separators, no leading dot).</summary>
    public static bool IsValidName(string name) => ValidName().IsMatch(name);

    private static ModelFolder? Read(string path)
    {
        if (!Directory.Exists(path))
        {
            return null;
        }

        var name = Path.GetFileName(path);
        if (HoldsModel(path))
        {
            return new ModelFolder(name, path, []);
        }

        var versions = Directory.GetDirectories(path).Where(HoldsModel).Select(Path.GetFileName).OfType<string>()
            .Where(IsValidName).Order(VersionOrder.Instance).ToList();
        return versions.Count > 0 ? new ModelFolder(name, path, versions) : null;
    }

    private static bool HoldsModel(string folder) =>
        File.Exists(Path.Combine(folder, ModelLoader.ManifestFile)) || Directory.EnumerateFiles(folder, "*.onnx").Any();

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")]
    private static partial Regex ValidName();
}
