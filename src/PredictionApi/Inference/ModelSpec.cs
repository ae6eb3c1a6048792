using System.Text.Json;
using PredictionApi.Imaging;

namespace PredictionApi.Inference;

/// <summary>Everything the service knows about the model it serves, with every manifest gap filled.</summary>
public sealed record ModelSpec
{
    public required string Name { get; init; }

    public required string Version { get; init; }

    public string Description { get; init; } = "";

    public required string File { get; init; }

    public required string Sha256 { get; init; }

    public required InputSpec Input { get; init; }

    /// <summary>The input dimensions as the ONNX graph declares them (-1 = dynamic).</summary>
    public required int[] InputDimensions { get; init; }

    public required OutputSpec Output { get; init; }

    public required string[] Labels { get; init; }

    public JsonElement? Metrics { get; init; }

    /// <summary>The manifest's shadow models ("name" or "name:version").</summary>
    public string[] Shadows { get; init; } = [];

    public JsonElement? Training { get; init; }

    /// <summary>
    /// Combines the manifest with the ONNX signature. <paramref name="source"/> names the manifest in
    /// error messages; <paramref name="fileSha256"/> is the hash of the ONNX file as found on disk.
    /// </summary>
    public static ModelSpec Resolve(string folderName, ModelManifest manifest, IReadOnlyList<TensorSignature> inputs,
        IReadOnlyList<TensorSignature> outputs, string fileSha256, string source)
    {
        ModelConfigurationException Error(string message) => new($"{source}: {message} (see models/README.md)");

        if (manifest.Sha256 is { Length: > 0 } expected && !string.Equals(expected, fileSha256, StringComparison.OrdinalIgnoreCase))
        {
            throw Error($"sha256 is {expected} but the ONNX file hashes to {fileSha256}; the file was changed or the manifest is stale. Refusing to serve it");
        }

        var m = manifest.Input ?? new ManifestInput();
        var input = Pick(inputs, m.Name, "input", Error);
        if (input.ElementType != typeof(float))
        {
            throw Error($"input '{input.Name}' is {input.TypeName}; only float32 image inputs are supported: export the model with a float32 input (a Cast after it)");
        }

        // ONNX Runtime lists only the inputs without a default: every one of them must be fed, and the service feeds one.
        if (inputs.Count > 1)
        {
            throw Error($"the ONNX graph has {inputs.Count} inputs ({string.Join(", ", inputs.Select(t => t.Name))}) but the service feeds one image input; " +
                "export the model with a single input, or give the others default values (initializers)");
        }

        var declared = input.Dimensions;
        var dims = ImageDimensions(input, m, Error);

        if (dims[0] > 1)
        {
            throw Error($"input '{input.Name}' has a fixed batch size of {dims[0]} but the service runs one image at a time; export the model with a dynamic batch dimension (or 1)");
        }

        var layout = m.Layout switch
        {
            null => dims[1] is 1 or 3 ? TensorLayout.NCHW
                : dims[3] is 1 or 3 ? TensorLayout.NHWC
                : throw Error($"cannot tell the layout of input '{input.Name}' [{string.Join(", ", dims)}]; set input.layout to NCHW or NHWC"),
            _ when m.Layout.Equals("NCHW", StringComparison.OrdinalIgnoreCase) => TensorLayout.NCHW,
            _ when m.Layout.Equals("NHWC", StringComparison.OrdinalIgnoreCase) => TensorLayout.NHWC,
            _ => throw Error($"input.layout '{m.Layout}' is not NCHW or NHWC"),
        };
        var shape = $"[{string.Join(", ", dims)}]";
        // Read with the wrong layout, a 1x28x28 input would be reported as having 28 channels; name the
        // shape and the field that contradicts it instead.
        var other = layout == TensorLayout.NCHW ? TensorLayout.NHWC : TensorLayout.NCHW;
        if (m.Layout is not null && !Fits(dims, layout, m) && Fits(dims, other, m))
        {
            throw Error($"input.layout is {m.Layout} but the ONNX input '{input.Name}' has shape {shape}, which is {other}; set input.layout to {other} or leave it out");
        }

        var (cAt, hAt, wAt) = Positions(layout);
        int Dimension(int? declared, int at, string field)
        {
            var actual = dims[at];
            if (declared is { } d)
            {
                if (d <= 0)
                {
                    throw Error($"input.{field} must be positive, not {d}");
                }

                if (actual > 0 && actual != d)
                {
                    throw Error($"input.{field} is {d} but the ONNX input '{input.Name}' has {actual} there");
                }

                return d;
            }

            return actual > 0 ? actual : throw Error($"the ONNX input '{input.Name}' leaves {field} dynamic; set input.{field}");
        }

        var channels = Dimension(m.Channels, cAt, "channels");
        if (channels is not (1 or 3))
        {
            throw Error($"the ONNX input '{input.Name}' {shape} read as {layout} has {channels} channels; only 1 (grayscale) or 3 (colour) are supported");
        }

        var height = Dimension(m.Height, hAt, "height");
        var width = Dimension(m.Width, wAt, "width");
        if ((long)height * width > MaxInputPixels)
        {
            throw Error($"the input is {width}x{height} pixels; the service makes inputs of at most {MaxInputPixels} pixels (4096x4096)");
        }
        var scaling = ParseEnum(m.Scaling, PixelScaling.Unit, "input.scaling", "unit, raw or standard", Error);
        float[] mean = [], std = [];
        if (scaling == PixelScaling.Standard)
        {
            mean = m.Mean is { } mv && mv.Length == channels ? mv : throw Error($"input.scaling 'standard' needs input.mean with {channels} value(s)");
            std = m.Std is { } sv && sv.Length == channels ? sv : throw Error($"input.scaling 'standard' needs input.std with {channels} value(s)");
            if (std.Any(s => !(s > 0)))
            {
                throw Error("every input.std value must be greater than 0");
            }
        }

        else if (m.Mean is not null || m.Std is not null)
        {
            // Mean and std only apply to standard scaling: without it they would be silently ignored and the model fed 0..1 or 0..255.
            throw Error($"input.mean and input.std apply only to input.scaling 'standard', but input.scaling is '{scaling.ToString().ToLowerInvariant()}'; set input.scaling to standard, or remove them");
        }

        var profile = ParseEnum(m.Profile, PreprocessProfile.None, "input.profile", "none, mnist or fashion", Error);
        if (profile != PreprocessProfile.None && (channels != 1 || height != MnistProfile.Size || width != MnistProfile.Size))
        {
            throw Error($"input.profile '{profile.ToString().ToLowerInvariant()}' produces 1x28x28 images but the model takes {channels}x{height}x{width}");
        }

        var background = Rgb.White;
        if (m.Background is not null && !Rgb.TryParse(m.Background, out background))
        {
            throw Error($"input.background '{m.Background}' is not a #rrggbb colour");
        }

        var bgr = m.ChannelOrder?.ToLowerInvariant() switch
        {
            null or "rgb" => false,
            "bgr" => true,
            _ => throw Error($"input.channel_order '{m.ChannelOrder}' is not rgb or bgr"),
        };

        var output = Pick(outputs, manifest.Output?.Name, "output", Error);
        var outDims = output.Dimensions;
        // With several outputs (a label and its probabilities, say), the first need not be the one to read.
        var others = manifest.Output?.Name is null && outputs.Count > 1
            ? $"; the graph's outputs are {string.Join(", ", outputs.Select(t => $"{t.Name} {t.TypeName}[{string.Join(", ", t.Dimensions)}]"))}: set output.name to the one with the class scores"
            : "";
        if (output.ElementType == typeof(object))
        {
            // sklearn-onnx wraps a classifier's probabilities in ZipMap unless told not to.
            throw Error($"output '{output.Name}' is not a tensor (a sequence of maps, as sklearn-onnx's ZipMap makes); the class scores must be a float32 [batch, classes] tensor: " +
                $"convert with options={{id(model): {{'zipmap': False}}}}{others}");
        }

        if (outDims.Length != 2)
        {
            throw Error($"output '{output.Name}' has dimensions [{string.Join(", ", outDims)}]; a classifier output is [batch, classes]{others}");
        }

        if (outDims[0] > 1)
        {
            throw Error($"output '{output.Name}' has a fixed batch size of {outDims[0]} but the service runs one image at a time; export the model with a dynamic batch dimension (or 1)");
        }

        if (outDims[0] == 1 && dims[0] <= 0)
        {
            // An exporter that fixed the output's batch at 1 made the model run one input at a time, whatever the input says;
            // batches of more (the Open Inference Protocol's) are refused as the wrong shape rather than failing in ONNX Runtime.
            declared = [1, .. declared[1..]];
        }

        if (output.ElementType != typeof(float))
        {
            throw Error($"output '{output.Name}' is {output.TypeName}; only float32 outputs are read: export the model with a float32 output (a Cast at its end){others}");
        }

        var classes = outDims[1] > 0 ? outDims[1]
            : manifest.Labels is { Length: > 0 } l ? l.Length
            : throw Error($"output '{output.Name}' leaves the class count dynamic; list the classes in labels");
        if (classes < 2)
        {
            // Softmax over one value is always 1: a binary classifier's single sigmoid would be served as "class 0, certain".
            throw Error($"output '{output.Name}' has one value per input (a single sigmoid or score), which cannot be read as class probabilities; " +
                "export the model with one output per class, at least two (for a binary classifier, two logits or [1 - p, p])");
        }
        var labels = manifest.Labels ?? Enumerable.Range(0, classes).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        if (labels.Length != classes)
        {
            throw Error($"labels has {labels.Length} entries but the model outputs {classes} classes");
        }

        if (labels.Distinct(StringComparer.Ordinal).Count() != labels.Length || labels.Any(string.IsNullOrWhiteSpace))
        {
            throw Error("labels must be distinct, non-empty names");
        }

        return new ModelSpec
        {
            Name = string.IsNullOrWhiteSpace(manifest.Name) ? folderName : manifest.Name,
            Version = string.IsNullOrWhiteSpace(manifest.Version) ? "1" : manifest.Version,
            Description = manifest.Description ?? "",
            File = manifest.File ?? "model.onnx",
            Sha256 = fileSha256,
            Input = new InputSpec
            {
                Name = input.Name,
                Layout = layout,
                Height = height,
                Width = width,
                Channels = channels,
                Bgr = bgr,
                Scaling = scaling,
                Mean = mean,
                Std = std,
                Resize = ParseEnum(m.Resize, ResizeMode.Stretch, "input.resize", "stretch, fit or crop", Error),
                Background = background,
                Profile = profile,
            },
            InputDimensions = declared,
            Output = new OutputSpec(output.Name, ParseEnum(manifest.Output?.Kind, OutputKind.Auto, "output.kind", "logits or probabilities", Error), classes),
            Labels = labels,
            Metrics = manifest.Metrics,
            Shadows = manifest.Shadows ?? [],
            Training = manifest.Training,
        };
    }

    /// <summary>
    /// The shape of one input as the model takes it: <see cref="InputSpec.Shape"/>, or [1, height, width] for a grayscale
    /// input without a channel axis, or [1, values] for a flattened one. The values and their order are the same.
    /// </summary>
    public long[] ModelInputShape => InputDimensions.Length switch
    {
        3 => [1, Input.Height, Input.Width],
        2 => [1, Input.TensorLength],
        _ => Input.Shape,
    };

    /// <summary>
    /// The input's dimensions as an image's four. A grayscale input without a channel axis ([batch, height, width], as a Keras
    /// model starting with Flatten takes it) or a flattened one ([batch, height x width x channels], as a dense or sklearn
    /// model takes it) holds the same values in the same order as the image tensor it is read as, so it is served as one.
    /// </summary>
    private static int[] ImageDimensions(TensorSignature input, ManifestInput m, Func<string, ModelConfigurationException> error)
    {
        var dims = input.Dimensions;
        var shape = $"[{string.Join(", ", dims)}]";
        var nhwc = m.Layout?.Equals("NHWC", StringComparison.OrdinalIgnoreCase) == true;
        switch (dims.Length)
        {
            case 4:
                return dims;
            case 3:
                if (m.Channels is { } c3 && c3 != 1)
                {
                    throw error($"input.channels is {c3} but the ONNX input '{input.Name}' {shape} has no channel axis: it takes one channel (grayscale)");
                }

                return nhwc ? [dims[0], dims[1], dims[2], 1] : [dims[0], 1, dims[1], dims[2]];
            case 2:
                if (m.Height is not > 0 || m.Width is not > 0)
                {
                    throw error($"input '{input.Name}' has 2 dimensions {shape}, a flattened image; set input.height and input.width (and input.channels when it is colour) to the image the values come from");
                }

                var (h, w) = (m.Height.Value, m.Width.Value);
                var channels = m.Channels ?? (dims[1] > 0 && dims[1] % ((long)h * w) == 0 ? (int)(dims[1] / ((long)h * w)) : 1);
                if (dims[1] > 0 && (long)channels * h * w != dims[1])
                {
                    throw error($"the ONNX input '{input.Name}' {shape} takes {dims[1]} values per image but input.height x input.width x channels is {h} x {w} x {channels}");
                }

                if (channels == 3 && m.Layout is null)
                {
                    // Flattened colour pixels are channel by channel (PyTorch) or pixel by pixel (Keras): nothing in the shape says which.
                    throw error($"the ONNX input '{input.Name}' {shape} is a flattened colour image; set input.layout to NCHW (channel by channel) or NHWC (pixel by pixel)");
                }

                return nhwc ? [dims[0], h, w, channels] : [dims[0], channels, h, w];
            default:
                throw error($"input '{input.Name}' has {dims.Length} dimensions {shape}; an image input is [batch, channels, height, width] (NCHW) or [batch, height, width, channels] (NHWC), " +
                    "[batch, height, width] (grayscale) or [batch, values] (flattened)");
        }
    }

    /// <summary>4096x4096: a tensor of at most 64 MB per channel, and its length always fits an int.</summary>
    public const int MaxInputPixels = 4096 * 4096;

    private static (int Channels, int Height, int Width) Positions(TensorLayout layout) =>
        layout == TensorLayout.NCHW ? (1, 2, 3) : (3, 1, 2);

    /// <summary>Whether the shape, read in this layout, has 1 or 3 channels and agrees with the sizes the manifest declares.</summary>
    private static bool Fits(int[] dims, TensorLayout layout, ManifestInput m)
    {
        var (c, h, w) = Positions(layout);
        static bool Agrees(int actual, int? declared) => actual <= 0 || declared is null || declared == actual;
        return dims[c] is 1 or 3 && Agrees(dims[c], m.Channels) && Agrees(dims[h], m.Height) && Agrees(dims[w], m.Width);
    }

    private static TensorSignature Pick(IReadOnlyList<TensorSignature> all, string? name, string what, Func<string, ModelConfigurationException> error)
    {
        if (all.Count == 0)
        {
            throw error($"the ONNX graph has no {what}");
        }

        if (name is null)
        {
            return all[0];
        }

        return all.FirstOrDefault(t => t.Name == name)
            ?? throw error($"{what}.name '{name}' is not in the ONNX graph, whose {what}s are: {string.Join(", ", all.Select(t => t.Name))}");
    }

    private static T ParseEnum<T>(string? text, T fallback, string field, string allowed, Func<string, ModelConfigurationException> error)
        where T : struct, Enum
    {
        if (text is null)
        {
            return fallback;
        }

        // "auto" is internal: writing it explicitly is the same as leaving the field out.
        return Enum.TryParse<T>(text, ignoreCase: true, out var value) && !text.Any(char.IsDigit)
            ? value
            : throw error($"{field} '{text}' is not one of {allowed}");
    }
}
