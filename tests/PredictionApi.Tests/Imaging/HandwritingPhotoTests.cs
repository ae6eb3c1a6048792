using Microsoft.ML.OnnxRuntime;

namespace PredictionApi.Tests.Imaging;

/// <summary>
/// MNIST test digits as people photograph and scan them (dark ink on off-white paper, off centre, turned a few degrees,
/// grain, blur, JPEG) read through the mnist profile and the shipped model: under light that falls off across the page,
/// inside a frame's line, beside the table beyond the paper's edge, on lined and squared paper, and cropped to the digit
/// itself.
/// </summary>
public sealed class HandwritingPhotoTests
{
    private const int Count = 150;

    // Every profile before these cases were handled read at most 58 % of any of them right.
    private const double Bar = 0.95;

    private static readonly HandwritingStyle Photo = new()
    {
        Width = 1200, Height = 1000, FrameSize = 380, OffCentre = 0.2f, Rotation = 5, Paper = new(238, 232, 220),
        Noise = 5, Blur = 1.2f, JpegQuality = 85,
    };

    [Fact]
    public void APhotoUnderAShadowIsReadAsWellAsTheDigitItself()
    {
        // The far side of the page gets less than half the light of the near side: a level ground would take it for ink.
        AssertReads(Photo with { Shadow = 0.45f }, "photos with a shadow across the page");
    }

    [Fact]
    public void AFramesLineIsNotTakenForPartOfTheDigit()
    {
        // Otherwise the digit's box spans the frame, and the digit shrinks to a speck in the middle of the 28x28 image.
        AssertReads(Photo with { Border = 8, BorderInset = 5, Shadow = 0.6f }, "photos inside a dark frame, under a shadow");
        AssertReads(new HandwritingStyle { Width = 40, Height = 40, FrameSize = 34, Border = 1, BorderInset = 1 }, "40x40 pictures inside a one-pixel box");
    }

    [Fact]
    public void TheTableBeyondThePageIsNeitherGroundNorInk()
    {
        // A dark band along one side spoils a fit of the ground to the whole edge, and then counts as a stroke.
        AssertReads(Photo with { Table = 0.04f, Shadow = 0.6f }, "photos showing the table beyond one edge of the page, under a shadow");
    }

    [Fact]
    public void ThePrintedLinesOfLinedAndSquaredPaperAreNotInk()
    {
        // Lines across the whole picture stretch the digit's box across it as a frame's do; the digit is written over them.
        AssertReads(Photo with { Rules = 120, RuleWidth = 3, RuleColour = new(160, 160, 160) }, "photos of lined paper with grey lines");
        AssertReads(Photo with { Rules = 60, RuleWidth = 2, Squared = true, Shadow = 0.6f }, "photos of squared paper, under a shadow");
    }

    [Fact]
    public void ADigitCroppedToItsInkKeepsTheStrokesThatReachTheEdges()
    {
        // Ink that runs along an edge is cleared only when the rest lies clear of the edges: here the digit touches them.
        AssertReads(new HandwritingStyle { Width = 120, Height = 120, FrameSize = 160 }, "pictures cropped to the digit");
    }

    private static void AssertReads(HandwritingStyle style, string what)
    {
        var accuracy = Accuracy(style);
        Assert.True(accuracy >= Bar, $"{accuracy:P1} right of {Count} {what}");
    }

    /// <summary>Share of the pictures classified as labelled: every 61st test digit, each drawn with its own seed.</summary>
    private static double Accuracy(HandwritingStyle style)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 1 };
        using var session = new InferenceSession(Path.Combine(RepoPaths.Models, "mnist", "model.onnx"), options);
        var right = 0;
        Parallel.For(0, Count, new ParallelOptions { MaxDegreeOfParallelism = 2 }, i =>
        {
            var index = i * 61;
            var tensor = MnistInput.Prepare(HandwritingPhotos.Render(Mnist.Images.Image(index), style, index + 7));
            using var runOptions = new RunOptions();
            using var input = OrtValue.CreateTensorValueFromMemory(tensor, [1, 1, 28, 28]);
            using var outputs = session.Run(runOptions, [MnistInput.Spec.Name], [input], session.OutputNames);
            if (OfflineModel.ArgMax(outputs[0].GetTensorDataAsSpan<float>()) == Mnist.Labels[index])
            {
                Interlocked.Increment(ref right);
            }
        });
        return right / (double)Count;
    }
}
