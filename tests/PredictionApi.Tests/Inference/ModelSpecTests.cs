using PredictionApi.Imaging;
using PredictionApi.Inference;

namespace PredictionApi.Tests.Inference;

/// <summary>How a manifest and the ONNX signature combine: defaults, inference from shapes, and refusals.</summary>
public sealed class ModelSpecTests
{
    private const string Sha = "abc123";

    private static TensorSignature In(params int[] dims) => new("pixels", dims, typeof(float));

    private static TensorSignature Out(int classes) => new("scores", [-1, classes], typeof(float));

    private static ModelSpec Resolve(string json, TensorSignature input, int classes = 3) =>
        ModelSpec.Resolve("folder", ModelManifest.Parse(json, "folder/model.json"), [input], [Out(classes)], Sha, "folder/model.json");

    [Fact]
    public void AnEmptyManifestTakesEverythingFromTheOnnxSignature()
    {
        var spec = Resolve("{}", In(-1, 1, 28, 28), classes: 10);

        Assert.Equal("folder", spec.Name);
        Assert.Equal("1", spec.Version);
        Assert.Equal(Sha, spec.Sha256);
        Assert.Equal(("pixels", TensorLayout.NCHW, 28, 28, 1), (spec.Input.Name, spec.Input.Layout, spec.Input.Height, spec.Input.Width, spec.Input.Channels));
        Assert.Equal((PixelScaling.Unit, ResizeMode.Stretch, PreprocessProfile.None, Rgb.White), (spec.Input.Scaling, spec.Input.Resize, spec.Input.Profile, spec.Input.Background));
        Assert.Equal(new OutputSpec("scores", OutputKind.Auto, 10), spec.Output);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => i.ToString()), spec.Labels);
        Assert.Equal([1L, 1, 28, 28], spec.Input.Shape);
    }

    [Fact]
    public void AKerasStyleInputIsReadAsNhwc()
    {
        var spec = Resolve("{}", In(-1, 224, 160, 3));
        Assert.Equal((TensorLayout.NHWC, 224, 160, 3), (spec.Input.Layout, spec.Input.Height, spec.Input.Width, spec.Input.Channels));
        Assert.Equal([1L, 224, 160, 3], spec.Input.Shape);
    }

    [Fact]
    public void ManifestFieldsAreUsedWhenTheGraphLeavesSizesDynamic()
    {
        var spec = Resolve("""
            { "name": "pets", "version": "3", "labels": ["cat", "dog", "fox"],
              "input": { "layout": "NCHW", "height": 64, "width": 48, "scaling": "standard", "mean": [0.4, 0.5, 0.6], "std": [0.2, 0.2, 0.2],
                         "resize": "crop", "channel_order": "bgr", "background": "#102030" },
              "output": { "kind": "probabilities" } }
            """, In(-1, 3, -1, -1));

        Assert.Equal(("pets", "3"), (spec.Name, spec.Version));
        Assert.Equal((64, 48, 3, true), (spec.Input.Height, spec.Input.Width, spec.Input.Channels, spec.Input.Bgr));
        Assert.Equal([0.4f, 0.5f, 0.6f], spec.Input.Mean);
        Assert.Equal((ResizeMode.Crop, new Rgb(0x10, 0x20, 0x30)), (spec.Input.Resize, spec.Input.Background));
        Assert.Equal(OutputKind.Probabilities, spec.Output.Kind);
        Assert.Equal(["cat", "dog", "fox"], spec.Labels);
    }

    [Theory]
    [InlineData("{}", "-1,3,-1,-1", "input.height")]
    [InlineData("{}", "-1,5,5,5", "input.layout")]
    [InlineData("{}", "-1,784", "set input.height and input.width")]
    [InlineData("""{ "input": { "height": 28, "width": 28 } }""", "-1,785", "785 values per image but input.height x input.width x channels is 28 x 28 x 1")]
    [InlineData("""{ "input": { "height": 8, "width": 8 } }""", "-1,192", "flattened colour image; set input.layout")]
    [InlineData("""{ "input": { "channels": 3 } }""", "-1,28,28", "has no channel axis")]
    [InlineData("{}", "-1,1,1,28,28", "5 dimensions")]
    [InlineData("""{ "input": { "layout": "CHWN" } }""", "-1,1,28,28", "NCHW or NHWC")]
    [InlineData("""{ "input": { "height": 32 } }""", "-1,1,28,28", "input.height is 32")]
    [InlineData("""{ "input": { "scaling": "standard" } }""", "-1,3,8,8", "input.mean")]
    [InlineData("""{ "input": { "scaling": "standard", "mean": [0,0,0], "std": [1,0,1] } }""", "-1,3,8,8", "std")]
    [InlineData("""{ "input": { "scaling": "percent" } }""", "-1,1,8,8", "unit, raw or standard")]
    [InlineData("""{ "input": { "profile": "mnist" } }""", "-1,3,28,28", "mnist")]
    [InlineData("""{ "input": { "profile": "fashion" } }""", "-1,1,32,32", "'fashion' produces 1x28x28")]
    [InlineData("""{ "input": { "profile": "cifar" } }""", "-1,1,28,28", "none, mnist or fashion")]
    [InlineData("""{ "input": { "background": "white" } }""", "-1,1,8,8", "#rrggbb")]
    [InlineData("""{ "input": { "name": "image" } }""", "-1,1,8,8", "pixels")]
    [InlineData("""{ "labels": ["a", "b"] }""", "-1,1,8,8", "labels has 2")]
    [InlineData("""{ "labels": ["a", "a", "b"] }""", "-1,1,8,8", "distinct")]
    [InlineData("""{ "output": { "kind": "scores" } }""", "-1,1,8,8", "logits or probabilities")]
    [InlineData("""{ "sha256": "0000" }""", "-1,1,8,8", "Refusing")]
    [InlineData("""{ "input": { "layout": "NCHW", "channels": 4 } }""", "-1,-1,8,8", "channels")]
    [InlineData("not json", "-1,1,8,8", "not a valid manifest")]
    public void AManifestThatCannotWorkIsRefusedWithAnExplanation(string json, string dims, string message)
    {
        var e = Assert.Throws<ModelConfigurationException>(() => Resolve(json, In(dims.Split(',').Select(int.Parse).ToArray())));
        Assert.Contains(message, e.Message, StringComparison.OrdinalIgnoreCase);
        Assert.StartsWith("folder/model.json", e.Message);
    }

    [Theory]
    [InlineData("""{ "input": { "layout": "NHWC" } }""", "-1,1,28,28", "NHWC", "NCHW")]
    [InlineData("""{ "input": { "layout": "NHWC", "channels": 1, "height": 28, "width": 28 } }""", "1,1,28,28", "NHWC", "NCHW")]
    [InlineData("""{ "input": { "layout": "nchw" } }""", "-1,32,32,3", "nchw", "NHWC")]
    public void ALayoutTheInputShapeContradictsNamesTheShapeAndTheField(string json, string dims, string given, string actual)
    {
        var e = Assert.Throws<ModelConfigurationException>(() => Resolve(json, In(dims.Split(',').Select(int.Parse).ToArray())));
        Assert.Contains($"input.layout is {given}", e.Message);
        Assert.Contains($"shape [{dims.Replace(",", ", ")}], which is {actual}", e.Message);
        Assert.DoesNotContain("channels;", e.Message);
    }

    [Theory]
    [InlineData("{}", "-1,28,28", TensorLayout.NCHW, 1, new long[] { 1, 28, 28 })]
    [InlineData("""{ "input": { "height": 28, "width": 28 } }""", "-1,784", TensorLayout.NCHW, 1, new long[] { 1, 784 })]
    [InlineData("""{ "input": { "height": 8, "width": 8, "layout": "NHWC" } }""", "-1,192", TensorLayout.NHWC, 3, new long[] { 1, 192 })]
    [InlineData("""{ "input": { "height": 28, "width": 28, "channels": 1 } }""", "-1,-1", TensorLayout.NCHW, 1, new long[] { 1, 784 })]
    public void AnInputWithoutAChannelAxisOrFlattenedIsReadAsTheImageItHoldsAndFedInItsOwnShape(string json, string dims, TensorLayout layout, int channels, long[] fed)
    {
        var spec = Resolve(json, In(dims.Split(',').Select(int.Parse).ToArray()));
        Assert.Equal((layout, channels), (spec.Input.Layout, spec.Input.Channels));
        Assert.Equal(fed, spec.ModelInputShape);
        Assert.Equal(dims.Split(',').Select(int.Parse), spec.InputDimensions);
    }

    [Fact]
    public void AnUnsupportedChannelCountNamesTheShapeAndTheLayoutItWasReadWith()
    {
        var e = Assert.Throws<ModelConfigurationException>(() => Resolve("""{ "input": { "layout": "NCHW" } }""", In(-1, 4, 8, 8)));
        Assert.Contains("'pixels' [-1, 4, 8, 8] read as NCHW has 4 channels", e.Message);
    }

    [Theory]
    [InlineData("""{ "output": { "name": "output_probability" } }""", "output 'output_probability' is not a tensor (a sequence of maps")]
    [InlineData("""{ "output": { "name": "output_probability" } }""", "convert with options={id(model): {'zipmap': False}}")]
    [InlineData("{}", "outputs are output_label int64[-1], output_probability non-tensor[]: set output.name")]
    public void AClassifiersZipMapOutputIsRefusedSayingHowToConvertWithoutIt(string json, string message)
    {
        // As sklearn-onnx converts a classifier by default: the label, then the probabilities as a sequence of maps.
        TensorSignature[] outputs = [new("output_label", [-1], typeof(long)), new("output_probability", [], typeof(object))];
        var e = Assert.Throws<ModelConfigurationException>(() =>
            ModelSpec.Resolve("f", ModelManifest.Parse(json, "f/model.json"), [In(-1, 1, 8, 8)], outputs, Sha, "f/model.json"));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void ANonFloatInputIsRefused()
    {
        var e = Assert.Throws<ModelConfigurationException>(() =>
            ModelSpec.Resolve("f", new ModelManifest(), [new TensorSignature("x", [-1, 1, 8, 8], typeof(byte))], [Out(2)], Sha, "f/model.json"));
        Assert.Contains("float32", e.Message);
    }
}
