using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace PredictionApi.Tests.Infrastructure;

/// <summary>
/// The real service (Program) on a given PostgreSQL database, with optional configuration overrides
/// (keys as in appsettings: "Model:Directory", "Upload:MaxBytes", ...). By default it runs in memory
/// (TestServer); call <see cref="StartKestrel"/> before the first request to run it on real Kestrel at
/// 127.0.0.1 on a free port instead (for a browser, or for Kestrel's own limits). Typical use:
/// <code>
/// var db = await TestPostgres.CreateDatabaseAsync();
/// await using var factory = new PredictionApiFactory(db);
/// using var client = factory.CreateClient();
/// </code>
/// </summary>
public sealed class PredictionApiFactory(string connectionString, IReadOnlyDictionary<string, string?>? settings = null)
    : WebApplicationFactory<Program>
{
    /// <summary>Runs the service on Kestrel (127.0.0.1, free port) and returns its base address.</summary>
    public Uri StartKestrel()
    {
        UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
        StartServer();
        var address = Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new Uri(address.EndsWith('/') ? address : address + "/");
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        // Production behaviour: no developer exception page, no user secrets.
        builder.UseEnvironment("Production");
        builder.ConfigureAppConfiguration((_, config) =>
        {
            var values = new Dictionary<string, string?> { ["ConnectionStrings:Predictions"] = connectionString };
            foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
            {
                values[key] = value;
            }

            config.AddInMemoryCollection(values);
        });
        builder.ConfigureLogging(logging => logging.SetMinimumLevel(LogLevel.Warning));
    }
}
