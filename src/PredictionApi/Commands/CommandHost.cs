using Microsoft.AspNetCore.Hosting.Server;

namespace PredictionApi.Commands;

/// <summary>The host a command-line command runs its services in: the usual configuration, quiet logs, no HTTP listener.</summary>
internal static class CommandHost
{
    /// <summary>
    /// A builder reading appsettings.json, the environment and <paramref name="configuration"/> (--Section:Key=value),
    /// logging warnings only (so the command's own output stands out; --Logging:LogLevel:Default=Information still wins),
    /// with the hosted services (database start-up, schema, ...) run on start and nothing listening on HTTP.
    /// </summary>
    public static WebApplicationBuilder CreateBuilder(IReadOnlyList<string> configuration)
    {
        // The service's content root (Program.cs), wherever the command is started: the same appsettings.json, and without
        // a connection string the same private cluster as the service it works with.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = configuration.ToArray(), ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:Microsoft.Hosting.Lifetime"] = "Warning",
        });
        builder.Configuration.AddCommandLine(configuration.ToArray());
        builder.Services.AddSingleton<IServer, NoServer>();
        return builder;
    }
}
