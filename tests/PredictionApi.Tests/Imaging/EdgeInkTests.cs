using Microsoft.Extensions.Options;
using PredictionApi.Imaging;

namespace PredictionApi.Tests.Imaging;

/// <summary>
/// Ink along the picture's edges in the mnist profile: a frame's line is cleared when the digit lies clear of it, and a
/// stroke that runs along an edge is kept when the rest of the digit reaches the edges too.
/// </summary>
public sealed class EdgeInkTests
{
    private static readonly ImagePreprocessor Preprocessor = new(Options.Create(new ImagingOptions()));

    private static readonly InputSpec MnistSpec = new()
    {
        Name = "input", Layout = TensorLayout.NCHW, Height = 28, Width = 28, Channels = 1, Profile = PreprocessProfile.Mnist,
    };

    [Theory]
    [InlineData(100)]
    [InlineData(800)] // the ground is fitted to a sample of the ring on large pictures
    public void ALineAroundTheDigitLeavesTheSameTensorAsNoLine(int size)
    {
        var plain = TestImages.DarkBarOnWhite(size, size, 2 * size / 5, size / 5, 3 * size / 10, 3 * size / 5);
        var framed = plain.ToArray();
        for (var i = 0; i < size; i++)
        {
            foreach (var (x, y) in new[] { (i, 2), (i, size - 3), (2, i), (size - 3, i) })
            {
                framed[y * size + x] = 0;
            }
        }

        Assert.Equal(Run(size, size, plain), Run(size, size, framed));
    }

    [Fact]
    public void ABarAlongTheTopEdgeStaysWhenTheRestOfTheDigitReachesAnEdge()
    {
        // A "7" cropped to its ink, its bar apart from its stem: the bar runs along the top edge, the stem reaches the bottom.
        var (w, h) = (60, 60);
        var seven = Enumerable.Repeat((byte)255, w * h).ToArray();
        for (var y = 0; y < h; y++)
        {
            for (var x = 0; x < w; x++)
            {
                var bar = y < 6 && x >= 3;
                var stem = y >= 9 && Math.Abs(x - (52 - (y - 9) * 32 / 50)) <= 3;
                seven[y * w + x] = bar || stem ? (byte)0 : (byte)255;
            }
        }

        var tensor = Run(w, h, seven);
        // Kept, the bar is the widest row of the result's top half; cleared, only the stem's few pixels would be there.
        var widest = Enumerable.Range(0, 14).Max(y => Enumerable.Range(0, 28).Count(x => tensor[y * 28 + x] > 0.5f));
        Assert.True(widest >= 12, $"the widest row of the top half has {widest} pixels of ink");
    }

    private static float[] Run(int width, int height, byte[] pixels)
    {
        var tensor = new float[MnistSpec.TensorLength];
        Preprocessor.Preprocess(TestImages.PngGray8(width, height, pixels), MnistSpec, tensor);
        return tensor;
    }
}
