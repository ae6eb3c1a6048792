using PredictionApi.Training.Data;
using PredictionApi.Training.Evaluation;

namespace PredictionApi.Training.Tests;

public sealed class RobustnessTests
{
    private static readonly Dataset Digits = Dataset.Load(RepoPaths.Npm10kImages, RepoPaths.Npm10kLabels, limit: 12);

    [Fact]
    public void EveryRenderingIsRepeatableAndGivesModelInputs()
    {
        Assert.Equal(Rendering.All.Count, Rendering.All.Select(r => r.Name).Distinct().Count());
        for (var r = 0; r < Rendering.All.Count; r++)
        {
            var a = Robustness.Render(Digits, Rendering.All[r], seed: 1, stream: 5000 + r);
            var b = Robustness.Render(Digits, Rendering.All[r], seed: 1, stream: 5000 + r);

            Assert.Equal(a.Pixels, b.Pixels);
            Assert.Equal(Digits.Labels, a.Labels);
            Assert.All(a.Pixels, v => Assert.InRange(v, 0f, 1f));
            for (var i = 0; i < a.Count; i++) Assert.True(a.Image(i).ToArray().Sum() > 5, $"{Rendering.All[r].Name}: digit {i} lost");
        }
    }

    [Fact]
    public void LowResolutionRenderingsLoseDetailThatTheCleanUploadKeeps()
    {
        var clean = Robustness.Render(Digits, Rendering.All.Single(r => r.Name == "clean-upload"), 1, 1);
        var tiny = Robustness.Render(Digits, Rendering.All.Single(r => r.Name == "tiny-7px"), 1, 1);

        // Re-enlarged from 7 px, strokes are smeared: fewer pixels near full ink, more at half tones.
        static int Crisp(Dataset d) => d.Pixels.Count(v => v > 0.9f);
        static int Half(Dataset d) => d.Pixels.Count(v => v is > 0.2f and < 0.8f);
        Assert.True(Crisp(tiny) < Crisp(clean));
        Assert.True(Half(tiny) > Half(clean));
    }
}
