using System.Security.Cryptography;
using Microsoft.ML.OnnxRuntime;
using SessionOptions = Microsoft.ML.OnnxRuntime.SessionOptions;

namespace PredictionApi.Inference;

/// <summary>Reads a model folder (model.json + the ONNX file) and opens one session for it.</summary>
public static class ModelLoader
{
    public const string ManifestFile = "model.json";

    public static ImageClassifier Load(ModelOptions options, ILogger logger)
    {
        var folder = options.Folder;
        if (!Directory.Exists(folder))
        {
            throw new ModelConfigurationException(
                $"The model folder '{options.Name}' does not exist in Model:Directory ({options.Directory}). " +
                $"Available: {string.Join(", ", Available(options.Directory).DefaultIfEmpty("none"))}.");
        }

        var manifestPath = Path.Combine(folder, ManifestFile);
        var source = $"{options.Name}/{ManifestFile}";
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

        var fileName = manifest.File ?? "model.onnx";
        if (fileName != Path.GetFileName(fileName))
        {
            throw new ModelConfigurationException($"{source}: file '{fileName}' must be a file name inside the model folder.");
        }

        var onnxPath = Path.Combine(folder, fileName);
        if (!File.Exists(onnxPath))
        {
            throw new ModelConfigurationException($"The model folder '{options.Name}' has no '{fileName}'.");
        }

        string sha256;
        using (var stream = File.OpenRead(onnxPath))
        {
            sha256 = Convert.ToHexStringLower(SHA256.HashData(stream));
        }

        using var sessionOptions = new SessionOptions
        {
            IntraOpNumThreads = options.IntraOpThreads,
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
            throw new ModelConfigurationException($"ONNX Runtime cannot load '{options.Name}/{fileName}': {e.Message}");
        }

        try
        {
            var spec = ModelSpec.Resolve(options.Name, manifest, Signatures(session.InputMetadata), Signatures(session.OutputMetadata), sha256, source);
            logger.LogInformation(
                "Serving model {Name} {Version} ({File}, sha256 {Sha256}): input {Input} {Layout} {Channels}x{Height}x{Width}, profile {Profile}, {Classes} classes",
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

    /// <summary>The model folders present in a models directory.</summary>
    public static IEnumerable<string> Available(string directory) =>
        Directory.Exists(directory)
            ? Directory.GetDirectories(directory).Where(d => Directory.EnumerateFiles(d, "*.onnx").Any()).Select(Path.GetFileName).OfType<string>().Order()
            : [];

    private static TensorSignature[] Signatures(IReadOnlyDictionary<string, NodeMetadata> metadata) =>
        metadata.Select(m => new TensorSignature(m.Key, m.Value.IsTensor ? m.Value.Dimensions : [], m.Value.IsTensor ? m.Value.ElementType : typeof(object))).ToArray();
}
