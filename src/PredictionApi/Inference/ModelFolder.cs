namespace PredictionApi.Inference;

/// <summary>
/// A model folder under Model:Directory: either flat (model.json and the ONNX file in it, one version) or
/// versioned (one sub-folder per version, each laid out like a flat folder).
/// </summary>
/// <param name="Versions">The version folders, lowest first; empty for the flat layout.</param>
public sealed record ModelFolder(string Name, string Path, IReadOnlyList<string> Versions)
{
    public bool Versioned => Versions.Count > 0;
}
