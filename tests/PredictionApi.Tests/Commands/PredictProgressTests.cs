using PredictionApi.Commands;

namespace PredictionApi.Tests.Commands;

/// <summary>Progress lines of the predict command when its output is a log (a file or a pipe).</summary>
public sealed class PredictProgressTests
{
    [Fact]
    public void TheClosingReportInALogDoesNotRepeatTheLastLine()
    {
        var output = new StringWriter();
        var progress = new PredictProgress(output, interactive: false, total: 3);

        progress.Report(2, 0, 1);
        progress.Report(2, 0, 1, final: true);

        Assert.Single(Lines(output));
        Assert.StartsWith("3/3 (100.0%)  predicted 2, skipped 0, failed 1", Lines(output)[0]);
    }

    [Fact]
    public void TheClosingReportInALogIsWrittenWhenTheCountsMovedSinceTheLastLine()
    {
        var output = new StringWriter();
        var progress = new PredictProgress(output, interactive: false, total: 3);

        progress.Report(1, 0, 0);
        progress.Report(2, 0, 0);
        progress.Report(3, 0, 0, final: true);

        // The second report falls inside the interval and is not written; the closing one is.
        Assert.Equal(2, Lines(output).Length);
        Assert.StartsWith("3/3 (100.0%)  predicted 3", Lines(output)[1]);
    }

    private static string[] Lines(StringWriter output) => output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
}
