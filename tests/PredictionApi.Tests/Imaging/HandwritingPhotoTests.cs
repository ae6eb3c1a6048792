using Microsoft.Extensions.Options;
using Microsoft.ML.OnnxRuntime;
using PredictionApi.Imaging;

namespace PredictionApi.Tests.Imaging;

/// <summary>
/// MNIST test digits as people photograph them (dark ink on off-white paper, off centre, turned a few degrees, grain,
/// blur, JPEG) read through the mnist profile and the shipped model: as well as the digits themselves, also when the
/// light falls off across the page.
/// </summary>
public sealed class HandwritingPhotoTests
{
    private const int Count = 300;

    private static readonly ImagePreprocessor Preprocessor = new(Options.Create(new ImagingOptions()));

    private static readonly InputSpec MnistSpec = new()
    {
        Name = "input", Layout = TensorLayout.NCHW, Height = 28, Width = 28, Channels = 1, Profile = PreprocessProfile.Mnist,
    };

    private static readonly HandwritingStyle Photo = new()
    {
        Width = 1200, Height = 1000, FrameSize = 380, OffCentre = 0.2f, Rotation = 5, Paper = new(238, 232, 220),
        Noise = 5, Blur = 1.2f, JpegQuality = 85,
    };

    [Fact]
    public void APhotoUnderAShadowIsReadAsWellAsTheDigitItself()
    {
        // The far side of the page gets less than half the light of the near side: a level ground would take it for ink.
        var accuracy = Accuracy(Photo with { Shadow = 0.45f });
        Assert.True(accuracy >= 0.97, $"accuracy {accuracy:P1} on {Count} photos with a shadow across the page");
    }

    /// <summary>Share of the photos classified as labelled: every 33rd test digit, each photographed with its own seed.</summary>
    private static double Accuracy(HandwritingStyle style)
    {
        using var options = new Microsoft.ML.OnnxRuntime.SessionOptions { IntraOpNumThreads = 1 };
        using var session = new InferenceSession(Path.Combine(RepoPaths.Models, "mnist", "model.onnx"), options);
        var right = 0;
        Parallel.For(0, Count, new ParallelOptions { MaxDegreeOfParallelism = 2 }, i =>
        {
            var index = i * 33;
            var tensor = new float[MnistSpec.TensorLength];
            Preprocessor.Preprocess(HandwritingPhotos.Render(Mnist.Images.Image(index), style, index), MnistSpec, tensor);
            using var runOptions = new RunOptions();
            using var input = OrtValue.CreateTensorValueFromMemory(tensor, [1, 1, 28, 28]);
            using var outputs = session.Run(runOptions, [MnistSpec.Name], [input], session.OutputNames);
            var scores = outputs[0].GetTensorDataAsSpan<float>();
            if (scores.IndexOf(Max(scores)) == Mnist.Labels[index])
            {
                Interlocked.Increment(ref right);
            }
        });
        return right / (double)Count;
    }

    private static float Max(ReadOnlySpan<float> values)
    {
        var max = float.NegativeInfinity;
        foreach (var v in values)
        {
            max = Math.Max(max, v);
        }

        return max;
    }
}
