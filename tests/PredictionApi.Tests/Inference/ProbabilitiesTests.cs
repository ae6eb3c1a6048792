using PredictionApi.Inference;

namespace PredictionApi.Tests.Inference;

public sealed class ProbabilitiesTests
{
    [Fact]
    public void SoftmaxOfHugeLogitsStaysFiniteAndSumsToOne()
    {
        var p = new float[3];
        Probabilities.FromOutput([1000f, 999f, -1000f], OutputKind.Logits, p);
        Assert.All(p, v => Assert.True(float.IsFinite(v)));
        Assert.Equal(1.0, p.Sum(v => (double)v), 6);
        Assert.Equal(1 / (1 + Math.Exp(-1)), p[0], 5);
    }

    [Fact]
    public void AutoUsesADistributionAsItIsAndSoftmaxesAnythingElse()
    {
        var p = new float[3];
        Probabilities.FromOutput([0.2f, 0.3f, 0.5f], OutputKind.Auto, p);
        Assert.Equal([0.2f, 0.3f, 0.5f], p.Select(v => MathF.Round(v, 6)));
        Probabilities.FromOutput([2f, 1f, 0f], OutputKind.Auto, p);
        Assert.True(p[0] > p[1] && p[1] > p[2]);
        Assert.Equal(1.0, p.Sum(v => (double)v), 6);
    }

    [Fact]
    public void NonFiniteOutputIsAnError()
    {
        Assert.Throws<UnusableOutputException>(() => Probabilities.FromOutput([float.NaN, 1f], OutputKind.Logits, new float[2]));
    }
}
