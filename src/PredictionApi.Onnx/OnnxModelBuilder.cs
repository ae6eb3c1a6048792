using System.Runtime.InteropServices;

namespace PredictionApi.Onnx;

/// <summary>
/// Builds a small ONNX model (one graph of standard operators) and serialises it to the protobuf bytes
/// ONNX Runtime loads. Typical use:
/// <code>
/// var model = new OnnxModelBuilder("my-graph")
///     .AddInput("input", OnnxElementType.Float, "batch", 1, 28, 28)
///     .AddInitializer("w", weights, 10, 784)
///     .AddNode("Flatten", ["input"], ["flat"], OnnxAttribute.Int("axis", 1))
///     .AddNode("Gemm", ["flat", "w"], ["logits"], OnnxAttribute.Int("transB", 1))
///     .AddOutput("logits", OnnxElementType.Float, "batch", 10);
/// File.WriteAllBytes("model.onnx", model.ToBytes());
/// </code>
/// Names are checked as they are added: every node input must already exist, and no name is produced twice.
/// </summary>
public sealed class OnnxModelBuilder
{
    /// <summary>ONNX IR version written to the file (IR 8 goes with opset 17..18).</summary>
    public const long IrVersion = 8;

    /// <summary>Default operator set version: opset 17 is supported by every ONNX Runtime since 1.12.</summary>
    public const long DefaultOpset = 17;

    private readonly List<ProtoWriter> inputs = [], outputs = [], initializers = [], nodes = [];
    private readonly HashSet<string> known = [];
    private readonly HashSet<string> outputNames = [];

    /// <summary>Starts a model whose graph is called <paramref name="graphName"/>.</summary>
    public OnnxModelBuilder(string graphName, long opset = DefaultOpset)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(graphName);
        ArgumentOutOfRangeException.ThrowIfLessThan(opset, 7);
        GraphName = graphName;
        Opset = opset;
    }

    /// <summary>The graph name stored in the model.</summary>
    public string GraphName { get; }

    /// <summary>The default-domain operator set version the model declares.</summary>
    public long Opset { get; }

    /// <summary>Tool that wrote the model (<c>producer_name</c>).</summary>
    public string ProducerName { get; init; } = "PredictionApi.Onnx";

    /// <summary>Version of that tool (<c>producer_version</c>).</summary>
    public string ProducerVersion { get; init; } = "1";

    /// <summary>Free text describing the model (<c>doc_string</c>).</summary>
    public string? Description { get; init; }

    /// <summary>Declares a graph input, e.g. <c>AddInput("input", OnnxElementType.Float, "batch", 1, 28, 28)</c>.</summary>
    public OnnxModelBuilder AddInput(string name, OnnxElementType type, params OnnxDim[] shape)
    {
        Define(name);
        inputs.Add(ValueInfo(name, type, shape));
        return this;
    }

    /// <summary>Declares a graph output; it must be produced by a node added before or after this call.</summary>
    public OnnxModelBuilder AddOutput(string name, OnnxElementType type, params OnnxDim[] shape)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (!outputNames.Add(name))
            throw new ArgumentException($"Output '{name}' is declared twice.", nameof(name));
        outputs.Add(ValueInfo(name, type, shape));
        return this;
    }

    /// <summary>Adds a constant float tensor (weights, biases). <paramref name="dims"/> must multiply to the length of <paramref name="values"/>.</summary>
    public OnnxModelBuilder AddInitializer(string name, ReadOnlySpan<float> values, params long[] dims) =>
        AddTensor(name, OnnxElementType.Float, MemoryMarshal.AsBytes(values), values.Length, dims);

    /// <summary>Adds a constant int64 tensor (for example the target shape of a <c>Reshape</c>).</summary>
    public OnnxModelBuilder AddInitializer(string name, ReadOnlySpan<long> values, params long[] dims) =>
        AddTensor(name, OnnxElementType.Int64, MemoryMarshal.AsBytes(values), values.Length, dims);

    /// <summary>
    /// Adds an operator node. Inputs must be graph inputs, initializers or outputs of earlier nodes
    /// (an empty string marks an omitted optional input).
    /// </summary>
    public OnnxModelBuilder AddNode(string opType, IReadOnlyList<string> nodeInputs, IReadOnlyList<string> nodeOutputs, params OnnxAttribute[] attributes)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(opType);
        if (nodeOutputs.Count == 0)
            throw new ArgumentException($"A {opType} node needs at least one output.", nameof(nodeOutputs));
        foreach (var input in nodeInputs)
        {
            if (input.Length > 0 && !known.Contains(input))
                throw new ArgumentException($"{opType} node reads '{input}', which is not an input, initializer or earlier node output.", nameof(nodeInputs));
        }
        foreach (var output in nodeOutputs) Define(output);

        var node = new ProtoWriter();
        foreach (var input in nodeInputs) WriteAlways(node, 1, input);
        foreach (var output in nodeOutputs) node.String(2, output);
        node.String(3, $"{opType}_{nodes.Count}").String(4, opType);
        foreach (var attribute in attributes) node.Message(5, attribute.ToProto());
        nodes.Add(node);
        return this;
    }

    /// <summary>Serialises the model to ONNX protobuf bytes.</summary>
    public byte[] ToBytes()
    {
        foreach (var name in outputNames)
        {
            if (!known.Contains(name))
                throw new InvalidOperationException($"Output '{name}' is declared but no node produces it.");
        }
        var graph = new ProtoWriter();
        foreach (var node in nodes) graph.Message(1, node);
        graph.String(2, GraphName);
        foreach (var tensor in initializers) graph.Message(5, tensor);
        foreach (var input in inputs) graph.Message(11, input);
        foreach (var output in outputs) graph.Message(12, output);

        return new ProtoWriter()
            .Int64(1, IrVersion)
            .String(2, ProducerName)
            .String(3, ProducerVersion)
            .String(6, Description)
            .Message(7, graph)
            .Message(8, new ProtoWriter().Int64(2, Opset))
            .ToArray();
    }

    /// <summary>Writes the model to <paramref name="path"/> (replacing the file).</summary>
    public void Save(string path) => File.WriteAllBytes(path, ToBytes());

    private OnnxModelBuilder AddTensor(string name, OnnxElementType type, ReadOnlySpan<byte> raw, int length, long[] dims)
    {
        long expected = 1;
        foreach (var d in dims)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(d, nameof(dims));
            expected *= d;
        }
        if (expected != length)
            throw new ArgumentException($"Initializer '{name}' has {length} values but its shape [{string.Join(", ", dims)}] holds {expected}.", nameof(dims));
        Define(name);

        var tensor = new ProtoWriter();
        foreach (var d in dims) tensor.Int64(1, d);
        tensor.Int64(2, (long)type).String(8, name);
        // raw_data is little-endian by definition, which is what MemoryMarshal gives on every platform .NET runs on here.
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("ONNX raw_data export needs a little-endian machine.");
        tensor.Bytes(9, raw.ToArray());
        initializers.Add(tensor);
        return this;
    }

    private static ProtoWriter ValueInfo(string name, OnnxElementType type, OnnxDim[] shape)
    {
        var dims = new ProtoWriter();
        foreach (var dim in shape)
        {
            var d = new ProtoWriter();
            if (dim.Param is { } param) d.String(2, param);
            else d.Int64(1, dim.Value ?? 0);
            dims.Message(1, d);
        }
        var tensorType = new ProtoWriter().Int64(1, (long)type).Message(2, dims);
        return new ProtoWriter().String(1, name).Message(2, new ProtoWriter().Message(1, tensorType));
    }

    private void Define(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (!known.Add(name))
            throw new ArgumentException($"The name '{name}' is already used by an input, initializer or node output.", nameof(name));
    }

    // Node input lists are positional, so an omitted optional input must still be written as "".
    private static void WriteAlways(ProtoWriter node, int field, string value)
    {
        if (value.Length == 0) node.Bytes(field, ReadOnlyMemory<byte>.Empty);
        else node.String(field, value);
    }
}
