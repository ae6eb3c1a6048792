using PredictionApi.Imaging;

namespace PredictionApi.Tests.Imaging;

/// <summary>
/// The budget of decoded pixels: large images wait for each other within seven eighths of it, one larger
/// than the whole budget still gets decoded, and small images pass while large ones hold their room.
/// </summary>
public sealed class DecodeBudgetTests
{
    private static readonly TimeSpan Short = TimeSpan.FromMilliseconds(200);

    [Fact]
    public void ALargeImageWaitsForRoomAndIsRefusedWith503WhenNoneComes()
    {
        var budget = new DecodeBudget(64_000_000, Short);
        var first = budget.Acquire(40_000_000);

        var e = Assert.Throws<ImageRejectedException>(() => budget.Acquire(20_000_000));
        Assert.Equal(503, e.Status);
        Assert.Contains("20 megapixels", e.Message);

        budget.Release(first);
        budget.Release(budget.Acquire(20_000_000));
        Assert.Equal(40_000_000, budget.Peak);
    }

    [Fact]
    public void AnImageLargerThanTheBudgetIsDecodedAloneAmongLargeOnes()
    {
        var budget = new DecodeBudget(8_000_000, Short);
        var huge = budget.Acquire(100_000_000);
        Assert.Equal(7_000_000, huge);
        Assert.Throws<ImageRejectedException>(() => budget.Acquire(200_000));

        budget.Release(huge);
        budget.Release(budget.Acquire(200_000));
    }

    [Fact]
    public void SmallImagesPassWhileLargeOnesHoldTheirShare()
    {
        var budget = new DecodeBudget(64_000_000, Short);
        var large = budget.Acquire(56_000_000);

        // A sixty-fourth of the budget each: the eighth kept for small images holds eight of them.
        var small = Enumerable.Range(0, 8).Select(_ => budget.Acquire(1_000_000)).ToList();
        Assert.Throws<ImageRejectedException>(() => budget.Acquire(1_000_000));

        small.ForEach(budget.Release);
        budget.Release(large);
        Assert.Equal(64_000_000, budget.Peak);
    }

    [Fact]
    public async Task AWaitingDecodeStartsAsSoonAsRoomIsGivenBack()
    {
        var budget = new DecodeBudget(10_000_000, TimeSpan.FromSeconds(30));
        var held = budget.Acquire(8_000_000);
        var waiting = Task.Run(() => budget.Acquire(5_000_000));

        Assert.NotSame(waiting, await Task.WhenAny(waiting, Task.Delay(300)));
        budget.Release(held);
        Assert.Same(waiting, await Task.WhenAny(waiting, Task.Delay(TimeSpan.FromSeconds(5))));
        Assert.Equal(5_000_000, await waiting);
    }
}
