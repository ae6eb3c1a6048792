using PredictionApi.Training.Data;
using PredictionApi.Training.Network;

namespace PredictionApi.Training.Tests;

public sealed class AugmenterTests
{
    private static readonly Dataset Digits = Dataset.Load(RepoPaths.Npm10kImages, RepoPaths.Npm10kLabels, limit: 20);

    [Fact]
    public void NoDistortionLeavesTheImageUnchanged()
    {
        var augmenter = new Augmenter(AugmentOptions.None, 28, 28);
        var output = new float[784];
        var rng = new Rng(1);
        augmenter.Apply(Digits.Image(0), output, ref rng);
        for (var i = 0; i < 784; i++) Assert.Equal(Digits.Image(0)[i], output[i], 1e-5f);
    }

    [Fact]
    public void DistortionIsSmallRepeatableAndVariesWithTheStream()
    {
        // The geometric part alone (uploads are covered in UploadRendererTests).
        var augmenter = new Augmenter(new AugmentOptions(UploadShare: 0), 28, 28);
        for (var i = 0; i < Digits.Count; i++)
        {
            var source = Digits.Image(i);
            float[] a = Apply(augmenter, source, 1), b = Apply(augmenter, source, 1), c = Apply(augmenter, source, 2);

            Assert.Equal(a, b);
            Assert.NotEqual(a, c);
            // Small affine changes and a gentle elastic field keep the digit: similar ink mass, inside the frame.
            var mass = source.ToArray().Sum();
            Assert.InRange(a.Sum(), mass * 0.6f, mass * 1.5f);
            Assert.All(a, v => Assert.InRange(v, 0f, 1.0001f));
        }
    }

    private static float[] Apply(Augmenter augmenter, ReadOnlySpan<float> source, int stream)
    {
        var output = new float[784];
        var rng = Rng.For(9, stream, 0);
        augmenter.Apply(source, output, ref rng);
        return output;
    }
}
