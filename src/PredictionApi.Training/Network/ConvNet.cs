using PredictionApi.Onnx;

namespace PredictionApi.Training.Network;

/// <summary>A chain of layers built fluently: <c>new ConvNet(new(1, 28, 28)).Conv(16, 5).Relu().MaxPool()...Dense(10)</c>.</summary>
internal sealed class ConvNet(Shape input)
{
    private readonly List<Layer> layers = [];

    public Shape Input { get; } = input;

    public Shape Output => layers.Count == 0 ? Input : layers[^1].Output;

    public IReadOnlyList<Layer> Layers => layers;

    public IEnumerable<Parameter> Parameters => layers.SelectMany(l => l.Parameters);

    public long ParameterCount => Parameters.Sum(p => (long)p.Value.Length);

    public long MultiplyAdds => layers.Sum(l => l.MultiplyAdds);

    /// <summary>The default digit classifier: about 1.1 million multiply-adds per 28x28 image.</summary>
    public static ConvNet Mnist(float dropout = 0.3f) =>
        new ConvNet(new Shape(1, 28, 28))
            .Conv(16, 5).Relu().MaxPool()
            .Conv(32, 5).Relu().MaxPool()
            .Dense(128).Relu().Dropout(dropout)
            .Dense(10);

    /// <summary>
    /// The clothing classifier (Fashion-MNIST): two 3x3 convolutions, 32 and 64 wide, about 2.7 million
    /// multiply-adds per image. The widths are parameters so tests can train a narrow copy in seconds.
    /// </summary>
    public static ConvNet Fashion(int conv1 = 32, int conv2 = 64, int hidden = 128, float convDropout = 0.25f, float dropout = 0.4f) =>
        new ConvNet(new Shape(1, 28, 28))
            .Conv(conv1, 3).Relu().MaxPool()
            .Conv(conv2, 3).Relu().MaxPool().Dropout(convDropout)
            .Dense(hidden).Relu().Dropout(dropout)
            .Dense(10);

    public ConvNet Conv(int channels, int kernel) => Add(new Conv2d(Output, channels, kernel, $"conv{Count<Conv2d>() + 1}"));

    public ConvNet Relu() => Add(new Relu(Output));

    public ConvNet MaxPool() => Add(new MaxPool2d(Output));

    public ConvNet Dense(int outputs) => Add(new Dense(Output, outputs, $"fc{Count<Dense>() + 1}"));

    public ConvNet Dropout(float rate) => rate > 0 ? Add(new Dropout(Output, rate)) : this;

    /// <summary>Draws initial weights from <paramref name="seed"/> (biases start at zero).</summary>
    public ConvNet Initialize(int seed)
    {
        var rng = Rng.For(seed, stream: 1, index: 0);
        foreach (var layer in layers) layer.Initialize(ref rng);
        return this;
    }

    /// <summary>
    /// The inference graph: input <c>input</c> float32 [batch, C, H, W], output <c>logits</c> float32 [batch, classes].
    /// With a <paramref name="temperature"/>, the network's own logits are divided by it in the graph (a <c>Div</c>
    /// node), so the output is still logits and every runtime's softmax gives the calibrated probabilities.
    /// </summary>
    public OnnxModelBuilder ToOnnx(string graphName, string producerVersion, string? description = null, float? temperature = null)
    {
        var model = new OnnxModelBuilder(graphName)
        {
            ProducerName = "PredictionApi.Training",
            ProducerVersion = producerVersion,
            Description = description,
        };
        model.AddInput("input", OnnxElementType.Float, "batch", Input.Channels, Input.Height, Input.Width);
        var last = temperature is null ? "logits" : "uncalibrated_logits";
        var value = "input";
        for (var i = 0; i < layers.Count; i++)
        {
            var name = i == layers.Count - 1 ? last : $"{layers[i].GetType().Name.ToLowerInvariant()}_{i}";
            value = layers[i].Export(model, value, name);
        }
        if (value != last) throw new InvalidOperationException("The last layer must produce the logits (it cannot be dropout).");
        if (temperature is { } t)
        {
            if (!(t > 0)) throw new ArgumentOutOfRangeException(nameof(temperature), t, "A temperature must be positive.");
            model.AddInitializer("temperature", [t])
                 .AddNode("Div", [last, "temperature"], ["logits"]);
        }
        return model.AddOutput("logits", OnnxElementType.Float, "batch", Output.Size);
    }

    public string Describe() => string.Join(Environment.NewLine, layers.Select(l => l.Description));

    private int Count<T>() => layers.OfType<T>().Count();

    private ConvNet Add(Layer layer)
    {
        layers.Add(layer);
        return this;
    }
}
