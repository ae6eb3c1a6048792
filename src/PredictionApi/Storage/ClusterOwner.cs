using System.Diagnostics;
using System.Globalization;

namespace PredictionApi.Storage;

/// <summary>
/// The process that owns a private cluster, as written in its owner file: the process id and its start
/// time, because a process id alone is reused by later, unrelated processes.
/// </summary>
internal sealed record ClusterOwner(int Pid, long StartTicks)
{
    public static ClusterOwner Current { get; } = new(Environment.ProcessId, StartTicksOf(Process.GetCurrentProcess()));

    /// <summary>True while the owning process runs (this process included).</summary>
    public bool IsAlive
    {
        get
        {
            try
            {
                using var process = Process.GetProcessById(Pid);
                // Start times are derived from clock ticks since boot; allow for rounding between readings.
                return Math.Abs(StartTicksOf(process) - StartTicks) < TimeSpan.TicksPerSecond;
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException)
            {
                return false;
            }
        }
    }

    public void Write(string path) =>
        File.WriteAllText(path, string.Create(CultureInfo.InvariantCulture, $"{Pid} {StartTicks}\n"));

    /// <summary>The owner named in <paramref name="path"/>, or null when there is none or it cannot be read.</summary>
    public static ClusterOwner? Read(string path)
    {
        try
        {
            var parts = File.ReadAllText(path).Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            return parts.Length == 2
                && int.TryParse(parts[0], CultureInfo.InvariantCulture, out var pid)
                && long.TryParse(parts[1], CultureInfo.InvariantCulture, out var ticks)
                ? new ClusterOwner(pid, ticks)
                : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static long StartTicksOf(Process process) => process.StartTime.ToUniversalTime().Ticks;
}
