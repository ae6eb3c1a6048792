using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using PredictionApi.Problems;

namespace PredictionApi.Predictions;

internal static class AdmissionExtensions
{
    /// <summary>The name of the policy the upload endpoints carry.</summary>
    public const string Uploads = "uploads";

    /// <summary>A concurrency limit with a short queue on the upload endpoints; refusals are 503 problems with Retry-After.</summary>
    public static WebApplicationBuilder AddAdmission(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<AdmissionOptions>()
            .BindConfiguration(AdmissionOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddRateLimiter(_ => { });
        builder.Services.AddOptions<RateLimiterOptions>().Configure<IOptions<AdmissionOptions>>((limiter, admission) =>
        {
            var limits = admission.Value;
            limiter.AddConcurrencyLimiter(Uploads, o =>
            {
                o.PermitLimit = limits.MaxConcurrentUploads;
                o.QueueLimit = limits.MaxQueuedUploads;
                o.QueueProcessingOrder = QueueProcessingOrder.OldestFirst;
            });
            limiter.OnRejected = async (context, cancellationToken) =>
            {
                var http = context.HttpContext;
                http.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                http.Response.Headers.RetryAfter = limits.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
                await http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
                {
                    HttpContext = http,
                    ProblemDetails =
                    {
                        Status = StatusCodes.Status503ServiceUnavailable,
                        Title = "Too busy",
                        Detail = $"The service is processing as many uploads as it takes at once ({limits.MaxConcurrentUploads}, with {limits.MaxQueuedUploads} waiting); nothing was stored. Retry after {limits.RetryAfterSeconds} s.",
                    },
                });
            };
        });
        return builder;
    }
}
