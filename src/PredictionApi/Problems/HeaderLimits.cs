namespace PredictionApi.Problems;

/// <summary>
/// The request target and header limits the service answers itself (<see cref="RequestLimits"/>): Kestrel's as
/// configured, its defaults unless Kestrel:Limits sets them, read before Kestrel's own are raised above them.
/// </summary>
internal sealed class HeaderLimits
{
    public int MaxTargetBytes { get; set; } = 8 * 1024;

    public long MaxHeaderBytes { get; set; } = 32 * 1024;

    public int MaxHeaderCount { get; set; } = 100;
}
