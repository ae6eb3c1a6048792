using System.Diagnostics;

namespace PredictionApi.Commands;

/// <summary>
/// Progress of the predict command: on a terminal one line rewritten in place a few times a second; when
/// the output is a file or a pipe, a plain line every few seconds, so logs stay readable.
/// </summary>
public sealed class PredictProgress(TextWriter output, bool interactive, int total)
{
    private static readonly TimeSpan TerminalInterval = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan LogInterval = TimeSpan.FromSeconds(5);

    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private TimeSpan? _lastReport;
    private int _lastWidth;
    private (int, int, int) _lastCounts = (-1, -1, -1);

    public TimeSpan Elapsed => _clock.Elapsed;

    /// <summary>Reports the counts so far; writes only when the interval has passed or <paramref name="final"/> is set.</summary>
    public void Report(int predicted, int skipped, int failed, bool final = false)
    {
        var now = _clock.Elapsed;
        if (!final && _lastReport is { } last && now - last < (interactive ? TerminalInterval : LogInterval))
        {
            return;
        }

        // In a log, the closing report repeats nothing: counts already written as they are stand.
        if (!interactive && final && _lastCounts == (predicted, skipped, failed))
        {
            return;
        }

        _lastReport = now;
        _lastCounts = (predicted, skipped, failed);
        var done = predicted + skipped + failed;
        var rate = now.TotalSeconds > 0 ? done / now.TotalSeconds : 0;
        var eta = rate > 0 && done < total ? TimeSpan.FromSeconds((total - done) / rate) : TimeSpan.Zero;
        var percent = total > 0 ? 100.0 * done / total : 100;
        var line = $"{done}/{total} ({percent:0.0}%)  predicted {predicted}, skipped {skipped}, failed {failed}  {rate:0.0} images/s  ETA {Format(eta)}";
        if (interactive)
        {
            // Pad over the previous, possibly longer, line; a newline only when done.
            output.Write("\r" + line.PadRight(_lastWidth));
            _lastWidth = line.Length;
            if (final)
            {
                output.WriteLine();
            }
        }
        else
        {
            output.WriteLine(line);
        }

        output.Flush();
    }

    public static string Format(TimeSpan span) =>
        span.TotalHours >= 1 ? $"{(int)span.TotalHours}:{span.Minutes:00}:{span.Seconds:00}" : $"{span.Minutes}:{span.Seconds:00}";
}
