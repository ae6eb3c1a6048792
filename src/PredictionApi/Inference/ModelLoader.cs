using System.Security.Cryptography;
using Microsoft.ML.OnnxRuntime;
using SessionOptions = Microsoft.ML.OnnxRuntime.SessionOptions;

namespace PredictionApi.Inference;

/// <summary>Reads a model folder (model.json + the ONNX file) and opens one session for it.</summary>
public static class ModelLoader
{
    public const string ManifestFile = "model.json";

    /// <summary>Class names one per line, as many exporters ship them; read when the manifest lists none.</summary>
    public const string LabelsFile = "labels.txt";

    /// <summary>Loads the model folder <see cref="ModelOptions.Name"/> as it is laid out (flat, or its highest version).</summary>
    public static ImageClassifier Load(ModelOptions options, ILogger logger)
    {
        var source = ModelFolders.Find(options.Directory, options.Name)
            ?? throw new ModelConfigurationException(
                $"The model folder '{options.Name}' does not exist in Model:Directory ({options.Directory}). " +
                $"Available: {string.Join(", ", Available(options.Directory).DefaultIfEmpty("none"))}.");
        var version = source.Versions.Count > 0 ? source.Versions[^1] : null;
        return Load(source, version, options.IntraOpThreads, logger);
    }

    /// <summary>
    /// Opens one session for <paramref name="version"/> of <paramref name="model"/> (null: the flat layout). The folder
    /// name is the model's name and, in the versioned layout, the version folder's name is its version.
    /// </summary>
    public static ImageClassifier Load(ModelFolder model, string? version, int intraOpThreads, ILogger logger)
    {
        var folder = version is null ? model.Path : Path.Combine(model.Path, version);
        var where = version is null ? model.Name : $"{model.Name}/{version}";
        if (!Directory.Exists(folder))
        {
            throw new ModelConfigurationException($"The model folder '{where}' does not exist.");
        }

        var manifestPath = Path.Combine(folder, ManifestFile);
        var source = $"{where}/{ManifestFile}";
        ModelManifest manifest;
        if (File.Exists(manifestPath))
        {
            manifest = ModelManifest.Parse(File.ReadAllText(manifestPath), source);
        }
        else
        {
            logger.LogWarning("{Folder} has no {Manifest}; reading everything from the ONNX metadata", folder, ManifestFile);
            manifest = new ModelManifest();
        }

        var labelsPath = Path.Combine(folder, LabelsFile);
        if (manifest.Labels is null && File.Exists(labelsPath))
        {
            // Trailing blank lines are an editor's, not classes; a blank line among the names is refused as an empty name.
            string[] lines;
            try
            {
                lines = File.ReadAllLines(labelsPath).Select(l => l.Trim()).Reverse().SkipWhile(l => l.Length == 0).Reverse().ToArray();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new ModelConfigurationException($"{where}/{LabelsFile} cannot be read ({e.GetType().Name}); make it readable by the service, or list the labels in {ManifestFile}.");
            }

            manifest = manifest with { Labels = lines };
            source = $"{source} (labels from {LabelsFile})";
        }

        var fileName = manifest.File ?? "model.onnx";
        if (fileName != Path.GetFileName(fileName))
        {
            throw new ModelConfigurationException($"{source}: file '{fileName}' must be a file name inside the model folder.");
        }

        var onnxPath = Path.Combine(folder, fileName);
        if (!File.Exists(onnxPath))
        {
            // An exporter's own file name (resnet50.onnx) is the usual reason: say which file is there and how to point at it.
            var present = Directory.GetFiles(folder, "*.onnx").Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
            throw new ModelConfigurationException($"The model folder '{where}' has no '{fileName}'" + (present.Count == 0 ? "." :
                $"; it holds {string.Join(", ", present)}: rename the model to {fileName}, or name it in model.json's \"file\" (see models/README.md)."));
        }

        string sha256;
        using (var stream = File.OpenRead(onnxPath))
        {
            sha256 = Convert.ToHexStringLower(SHA256.HashData(stream));
        }

        using var sessionOptions = new SessionOptions
        {
            IntraOpNumThreads = intraOpThreads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        // Idle pool threads must not spin on a box where cores are shared with requests and PostgreSQL.
        sessionOptions.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        InferenceSession session;
        try
        {
            session = new InferenceSession(onnxPath, sessionOptions);
        }
        catch (OnnxRuntimeException e)
        {
            // The reason is shown over HTTP (GET /models): it names the file, not where the models directory is.
            throw new ModelConfigurationException($"ONNX Runtime cannot load '{where}/{fileName}': {e.Message.Replace(onnxPath, $"{where}/{fileName}")}");
        }

        try
        {
            var spec = ModelSpec.Resolve(model.Name, manifest, Signatures(session.InputMetadata), Signatures(session.OutputMetadata), sha256, source);
            // Requests name a model by its folder, and stored predictions carry the name it is requested by.
            if (spec.Name != model.Name)
            {
                logger.LogWarning("{Source} names the model '{Manifest}' but its folder is '{Folder}'; it is served and stored as '{Folder}'",
                    source, spec.Name, model.Name, model.Name);
                spec = spec with { Name = model.Name };
            }

            if (version is not null)
            {
                spec = spec with { Version = version };
            }

            logger.LogInformation(
                "Opened model {Name} {Version} ({File}, sha256 {Sha256}): input {Input} {Layout} {Channels}x{Height}x{Width}, profile {Profile}, {Classes} classes",
                spec.Name, spec.Version, fileName, sha256, spec.Input.Name, spec.Input.Layout, spec.Input.Channels, spec.Input.Height, spec.Input.Width,
                spec.Input.Profile, spec.Output.Classes);
            return new ImageClassifier(spec, session);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>The version a flat model folder holds: its manifest's, or "1" (also when the manifest cannot be read: loading says why).</summary>
    public static string FlatVersion(ModelFolder model)
    {
        try
        {
            var path = Path.Combine(model.Path, ManifestFile);
            var version = File.Exists(path) ? ModelManifest.Parse(File.ReadAllText(path), path).Version : null;
            return string.IsNullOrWhiteSpace(version) ? "1" : version;
        }
        catch (Exception e) when (e is ModelConfigurationException or IOException)
        {
            return "1";
        }
    }

    /// <summary>The model folders present in a models directory.</summary>
    public static IEnumerable<string> Available(string directory) => ModelFolders.Scan(directory).Select(m => m.Name);

    private static TensorSignature[] Signatures(IReadOnlyDictionary<string, NodeMetadata> metadata) =>
        metadata.Select(m => new TensorSignature(m.Key, m.Value.IsTensor ? m.Value.Dimensions : [], m.Value.IsTensor ? m.Value.ElementType : typeof(object))).ToArray();
}
