using PredictionApi.Predictions;

namespace PredictionApi.Tests.Queries;

/// <summary>The top-k selection that every endpoint returning predictions (and batch labelling) shares.</summary>
public sealed class TopLabelsTests
{
    private static readonly string[] Names = ["cat", "dog", "bird", "fish"];

    [Fact]
    public void LabelsComeMostProbableFirstWithTheirNames()
    {
        var top = TopLabels.Select([0.1f, 0.6f, 0.05f, 0.25f], Names, maxLabels: 3);

        Assert.Equal([new LabelScore("dog", 0.6f), new LabelScore("fish", 0.25f), new LabelScore("cat", 0.1f)], top);
    }

    [Fact]
    public void EqualProbabilitiesKeepClassOrderSoTheFirstLabelIsTheArgMax()
    {
        var top = TopLabels.Select([0.25f, 0.25f, 0.25f, 0.25f], Names, maxLabels: 4);

        Assert.Equal(["cat", "dog", "bird", "fish"], top.Select(l => l.Name));
        Assert.Equal(0, PredictionApi.Inference.Probabilities.ArgMax([0.25f, 0.25f, 0.25f, 0.25f]));
    }

    [Fact]
    public void MinConfidenceDropsLabelsBelowItAndIsInclusive()
    {
        var top = TopLabels.Select([0.1f, 0.6f, 0.05f, 0.25f], Names, maxLabels: 4, minConfidence: 0.25f);

        Assert.Equal(["dog", "fish"], top.Select(l => l.Name));
        Assert.Empty(TopLabels.Select([0.1f, 0.6f, 0.05f, 0.25f], Names, maxLabels: 4, minConfidence: 0.61f));
    }

    [Fact]
    public void MoreLabelsThanClassesReturnsEveryClass()
    {
        Assert.Equal(4, TopLabels.Select([0.1f, 0.6f, 0.05f, 0.25f], Names, maxLabels: 50).Length);
        Assert.Empty(TopLabels.Select([0.1f, 0.6f, 0.05f, 0.25f], Names, maxLabels: 0));
    }

    [Fact]
    public void ClassesWithoutANameAreNamedByIndex()
    {
        var top = TopLabels.Select([0.2f, 0.3f, 0.5f], [], maxLabels: 3);

        Assert.Equal(["2", "1", "0"], top.Select(l => l.Name));
    }
}
