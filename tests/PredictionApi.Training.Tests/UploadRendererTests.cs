using PredictionApi.Training.Data;
using PredictionApi.Training.Network;
using PredictionApi.Training.Uploads;

namespace PredictionApi.Training.Tests;

public sealed class UploadRendererTests
{
    private static readonly Dataset Digits = Dataset.Load(RepoPaths.Npm10kImages, RepoPaths.Npm10kLabels, limit: 20);

    [Fact]
    public void ThickeningAddsInkAndThinningRemovesItWithinRange()
    {
        for (var i = 0; i < Digits.Count; i++)
        {
            var mass = Digits.Image(i).ToArray().Sum();
            float[] thick = Digits.Image(i).ToArray(), thin = Digits.Image(i).ToArray();
            Filters.Thickness(thick, 28, 28, 1.5f);
            Filters.Thickness(thin, 28, 28, -0.6f);

            Assert.True(thick.Sum() > mass * 1.3f, $"digit {i}: {thick.Sum()} vs {mass}");
            Assert.True(thin.Sum() < mass * 0.85f, $"digit {i}: {thin.Sum()} vs {mass}");
            Assert.True(thin.Sum() > 0, "thinning must not erase the digit");
            Assert.All(thick.Concat(thin), v => Assert.InRange(v, 0f, 1f));
        }
    }

    [Fact]
    public void BlurKeepsInkMassAndSpreadsIt()
    {
        var plane = new float[21 * 21];
        plane[10 * 21 + 10] = 1;
        Filters.GaussianBlur(plane, 21, 21, 1.5f);

        Assert.Equal(1f, plane.Sum(), 1e-4f);
        Assert.True(plane[10 * 21 + 10] < 0.1f);
        Assert.True(plane[10 * 21 + 12] > 0.02f);
    }

    [Fact]
    public void RenderedUploadIsAnEightBitDarkOnLightPictureAndRepeatable()
    {
        var style = new UploadStyle { Scale = 0.7f, Thickness = 0.5f, Blur = 0.7f, Paper = 230, Ink = 50, Noise = 8, Breaks = 1 };
        var (a, b, c) = (Render(0, style, stream: 1), Render(0, style, stream: 1), Render(0, style, stream: 2));

        Assert.Equal(a.Pixels, b.Pixels);
        Assert.NotEqual(a.Pixels, c.Pixels); // the noise and the gap come from the stream
        Assert.Equal((30, 30), (a.Width, a.Height)); // the 28 px frame drawn 20 px wide, plus a quarter of that on each side
        Assert.All(a.Pixels, v => Assert.True(v == MathF.Round(v) && v is >= 0 and <= 255));
        Assert.True(a.Pixels[0] > 180 && a.Pixels.Min() < 120, "paper light, ink dark");
    }

    [Fact]
    public void BinarizedUploadHasTwoLevelsAndAspectWidensTheDigit()
    {
        var binary = Render(5, new UploadStyle { Scale = 0.8f, Paper = 240, Ink = 20, Noise = 10, Binarize = 128 }, stream: 1);
        Assert.Equal([20f, 240f], binary.Pixels.Distinct().Order());

        var plain = Render(5, new UploadStyle(), stream: 1);
        var wide = Render(5, new UploadStyle { Aspect = 1.3f }, stream: 1);
        Assert.Equal(plain.Height, wide.Height);
        Assert.True(InkWidth(wide) > InkWidth(plain) * 1.2, $"{InkWidth(wide)} vs {InkWidth(plain)}");

        static int InkWidth(GrayImage image)
        {
            var columns = Enumerable.Range(0, image.Width).Where(x => Enumerable.Range(0, image.Height).Any(y => image.Pixels[y * image.Width + x] < 128)).ToArray();
            return columns[^1] - columns[0] + 1;
        }
    }

    [Fact]
    public void ServicePreprocessingOfACleanLargeUploadGivesBackTheMnistDigit()
    {
        // MNIST itself was made by this preprocessing, so a clean 84 px upload of a digit must come back nearly as it was.
        // The service refits the ink box to 20 px, which moves thin strokes by up to a pixel: compare shapes at 1 px blur.
        var input = new float[784];
        var correlations = new List<double>();
        for (var i = 0; i < Digits.Count; i++)
        {
            ServicePreprocessing.ToModelInput(Render(i, new UploadStyle(), stream: 1), input);
            var original = Digits.Image(i).ToArray();
            Filters.GaussianBlur(original, 28, 28, 1);
            Filters.GaussianBlur(input, 28, 28, 1);
            correlations.Add(Correlation(original, input));
        }
        Assert.True(correlations.Average() > 0.85, $"mean correlation {correlations.Average():F3}");
        Assert.All(correlations, c => Assert.True(c > 0.5, $"correlation {c:F3}"));
    }

    [Fact]
    public void JpegRoundTripKeepsThePictureButNotExactly()
    {
        var image = Render(3, new UploadStyle(), stream: 1);
        var jpeg = Jpeg.RoundTrip(image, quality: 10);

        Assert.NotEqual(image.Pixels, jpeg.Pixels);
        Assert.True(Correlation(image.Pixels, jpeg.Pixels) > 0.9);
    }

    [Fact]
    public void UploadAugmentationIsRepeatableAndStaysAModelInput()
    {
        var augmenter = new Augmenter(new AugmentOptions(UploadShare: 1), 28, 28);
        for (var i = 0; i < Digits.Count; i++)
        {
            float[] a = new float[784], b = new float[784], c = new float[784];
            var (ra, rb, rc) = (Rng.For(9, 1, i), Rng.For(9, 1, i), Rng.For(9, 2, i));
            augmenter.Apply(Digits.Image(i), a, ref ra);
            augmenter.Apply(Digits.Image(i), b, ref rb);
            augmenter.Apply(Digits.Image(i), c, ref rc);

            Assert.Equal(a, b);
            Assert.NotEqual(a, c);
            Assert.All(a, v => Assert.InRange(v, 0f, 1f));
            Assert.True(a.Sum() > 5, "the digit survives the upload");
            // The service fits the ink into a 20x20 box: nothing lies outside 20 consecutive rows and columns.
            var rows = Enumerable.Range(0, 28).Where(y => Enumerable.Range(0, 28).Any(x => a[y * 28 + x] > 0)).ToArray();
            var columns = Enumerable.Range(0, 28).Where(x => Enumerable.Range(0, 28).Any(y => a[y * 28 + x] > 0)).ToArray();
            Assert.InRange(rows[^1] - rows[0] + 1, 1, 20);
            Assert.InRange(columns[^1] - columns[0] + 1, 1, 20);
        }
    }

    [Fact]
    public void NonDigitsAreRepeatableVariedModelInputs()
    {
        var seen = new HashSet<float>();
        for (var i = 0; i < 40; i++)
        {
            float[] a = new float[784], b = new float[784];
            var (ra, rb) = (Rng.For(3, 4, i), Rng.For(3, 4, i));
            NonDigits.Generate(a, ref ra);
            NonDigits.Generate(b, ref rb);

            Assert.Equal(a, b);
            Assert.All(a, v => Assert.InRange(v, 0f, 1f));
            seen.Add(a.Sum());
        }
        Assert.True(seen.Count > 30, "different streams give different pictures");
    }

    private static GrayImage Render(int digit, UploadStyle style, int stream)
    {
        var rng = Rng.For(1, stream, digit);
        return UploadRenderer.Render(Digits.Image(digit), style, ref rng);
    }

    private static double Correlation(float[] x, float[] y)
    {
        double mx = x.Average(), my = y.Average(), sxy = 0, sxx = 0, syy = 0;
        for (var i = 0; i < x.Length; i++)
        {
            sxy += (x[i] - mx) * (y[i] - my);
            sxx += (x[i] - mx) * (x[i] - mx);
            syy += (y[i] - my) * (y[i] - my);
        }
        return sxy / Math.Sqrt(sxx * syy);
    }
}
