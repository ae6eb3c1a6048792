using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace PredictionApi.Problems;

/// <summary>
/// The request target and header limits the service answers itself (<see cref="RequestLimits"/>): Kestrel's as
/// configured, its defaults unless Kestrel:Limits sets them, read before Kestrel's own are raised above them.
/// </summary>
internal sealed class HeaderLimits
{
    private static readonly KestrelServerLimits Defaults = new();

    public int MaxTargetBytes { get; set; } = Defaults.MaxRequestLineSize;

    public int MaxHeaderBytes { get; set; } = Defaults.MaxRequestHeadersTotalSize;

    public int MaxHeaderCount { get; set; } = Defaults.MaxRequestHeaderCount;
}
