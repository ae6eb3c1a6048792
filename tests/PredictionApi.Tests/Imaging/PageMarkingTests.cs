namespace PredictionApi.Tests.Imaging;

/// <summary>
/// What the mnist profile takes off the page besides the digit: a frame's line when the digit lies clear of it, the
/// printed lines of lined paper; and what it keeps: a stroke along an edge when the rest of the digit reaches the
/// edges too, a bar as thick as a digit's strokes.
/// </summary>
public sealed class PageMarkingTests
{
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

        Assert.Equal(MnistInput.Prepare(TestImages.PngGray8(size, size, plain)), MnistInput.Prepare(TestImages.PngGray8(size, size, framed)));
    }

    [Fact]
    public void PrintedLinesAcrossThePageLeaveTheDigitsBox()
    {
        // Grey lines every 20 rows of a 200x200 page, crossing the bar: the bar alone is fitted to 20 pixels high.
        var plain = TestImages.DarkBarOnWhite(200, 200, 80, 40, 60, 120);
        var lined = plain.Select((v, i) => i / 200 % 20 < 2 && v == 255 ? (byte)160 : v).ToArray();
        Assert.Equal(InkBox(MnistInput.Prepare(TestImages.PngGray8(200, 200, plain))), InkBox(MnistInput.Prepare(TestImages.PngGray8(200, 200, lined))));
        Assert.Equal((9, 4, 10, 20), InkBox(MnistInput.Prepare(TestImages.PngGray8(200, 200, lined))));
    }

    [Theory]
    [InlineData(60)]
    [InlineData(200)] // large enough for lines to be looked for: the bar is as wide as the page, but thick
    public void ABarAlongTheTopEdgeStaysWhenTheRestOfTheDigitReachesAnEdge(int size)
    {
        // A "7" cropped to its ink, its bar apart from its stem: the bar runs along the top edge, the stem reaches the bottom.
        var seven = Enumerable.Repeat((byte)255, size * size).ToArray();
        for (var y = 0; y < size; y++)
        {
            for (var x = 0; x < size; x++)
            {
                var (u, v) = (x * 60f / size, y * 60f / size);
                var bar = v < 6 && u >= 3;
                var stem = v >= 9 && Math.Abs(u - (52 - (v - 9) * 32 / 50)) <= 3;
                seven[y * size + x] = bar || stem ? (byte)0 : (byte)255;
            }
        }

        var tensor = MnistInput.Prepare(TestImages.PngGray8(size, size, seven));
        // Kept, the bar is the widest row of the result's top half; cleared, only the stem's few pixels would be there.
        var widest = Enumerable.Range(0, 14).Max(y => Enumerable.Range(0, 28).Count(x => tensor[y * 28 + x] > 0.5f));
        Assert.True(widest >= 12, $"the widest row of the top half has {widest} pixels of ink");
    }

    /// <summary>Left, top, width and height of the pixels of a 28x28 tensor above half.</summary>
    private static (int X, int Y, int W, int H) InkBox(float[] tensor)
    {
        var ink = Enumerable.Range(0, 28 * 28).Where(i => tensor[i] > 0.5f).ToArray();
        var (xs, ys) = (ink.Select(i => i % 28).ToArray(), ink.Select(i => i / 28).ToArray());
        return (xs.Min(), ys.Min(), xs.Max() - xs.Min() + 1, ys.Max() - ys.Min() + 1);
    }
}
