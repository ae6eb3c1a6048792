using Microsoft.Extensions.Options;
using PredictionApi.Imaging;

namespace PredictionApi.Tests.Infrastructure;

/// <summary>The digit model's input (28x28, one channel, the mnist profile), and files prepared for it as the service prepares uploads.</summary>
internal static class MnistInput
{
    public static readonly InputSpec Spec = new()
    {
        Name = "input", Layout = TensorLayout.NCHW, Height = 28, Width = 28, Channels = 1, Profile = PreprocessProfile.Mnist,
    };

    private static readonly ImagePreprocessor Preprocessor = new(Options.Create(new ImagingOptions()));

    /// <summary>The tensor the service would feed the model for <paramref name="file"/>, with the default imaging options.</summary>
    public static float[] Prepare(byte[] file)
    {
        var tensor = new float[Spec.TensorLength];
        Preprocessor.Preprocess(file, Spec, tensor);
        return tensor;
    }
}
