using System.Text.Json;
using Microsoft.AspNetCore.Authorization;
using PredictionApi;
using PredictionApi.Auth;
using PredictionApi.CrossOrigin;
using PredictionApi.Commands;
using PredictionApi.Comparison;
using PredictionApi.Health;
using PredictionApi.Observability;
using PredictionApi.Inference;
using PredictionApi.OpenInference;
using PredictionApi.Predictions;
using PredictionApi.Problems;
using Scalar.AspNetCore;

// "predict <folder | s3://bucket/prefix>": classify and store a folder of images instead of serving HTTP
// ("label" is the command's earlier name, still accepted).
if (args is ["predict" or "label", ..])
{
    Environment.ExitCode = await PredictCommand.RunAsync(args[1..], Console.Out, Console.Error, CancellationToken.None);
    return;
}

// "keys create|list|revoke": manage API keys in the service's database.
if (args is ["keys", ..])
{
    Environment.ExitCode = await KeysCommand.RunAsync(args[1..], Console.Out, Console.Error, CancellationToken.None);
    return;
}

// "healthcheck [url]": exit 0 when a running instance is ready (the container's HEALTHCHECK; no curl in the image).
if (args is ["healthcheck", ..])
{
    Environment.ExitCode = await HealthProbe.RunAsync(args[1..], Console.Out, CancellationToken.None);
    return;
}

// A bounded thread pool: under overload, dozens of threads on a few cores made refusals wait for the scheduler.
ThreadPoolCap.Apply();

// Settings and the web page are read beside the program, wherever it is started from: the default content root, the
// working directory, holds neither appsettings.json (its log levels) nor wwwroot when the built program is run elsewhere.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });

// From an upload to its stored rows: problem details, PostgreSQL, the input store, the model, preprocessing
// and the prediction store (PredictionPipelineExtensions.cs; the predict command registers the same).
builder.AddPredictionPipeline();
// The batch endpoint with idempotency keys.
builder.AddBatch();
// Liveness and readiness (model loaded, database reachable).
builder.AddHealth();
// A bounded amount of upload work at once; beyond it, 503 with Retry-After at once.
builder.AddAdmission();
// API keys with scopes and per-key rate limits, required once the first key exists (Auth/).
builder.AddApiKeys();
// The Open Inference Protocol's errors under /v2: {"error": "..."} instead of problem details.
builder.AddOpenInference();
// CORS for the web origins in Cors:AllowedOrigins (none by default).
builder.AddCrossOrigin();
// Kestrel's limits on request line and headers raised, so the service answers what is over its own as problem+json.
builder.AddRequestLimits();
// The OpenAPI document; JSON is snake_case, as clients of the original service expect.
builder.Services.AddOpenApi(options => options.AddDocumentTransformer((document, _, _) =>
{
    document.Info.Title = "PredictionApi";
    document.Info.Description = "Classifies uploaded images with a local ONNX model and keeps every input and its probabilities " +
        "in PostgreSQL, so every prediction can be listed, corrected with its true label, measured and deleted. " +
        "Errors are RFC 7807 problem details. The web page is at /.";
    return Task.CompletedTask;
}));
builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower);

var app = builder.Build();

// A refusal sent before its body was read reaches the client: Kestrel drains that body instead of resetting.
app.UseDrainedRefusals();
// HEAD is answered wherever GET is (routed as a GET; Kestrel leaves the body out).
app.UseHeadAsGet();
// One log line per request: method, route, status, duration, model, key.
app.UseRequestLog();
// nosniff and no framing on every response, and the web page's Content-Security-Policy.
app.UseSecurityHeaders();
// A request target over 8 KiB, headers over 32 KiB or 100 fields: 414 or 431 problem details.
app.UseRequestLimits();
// Pages of the origins in Cors:AllowedOrigins may call the API (and read its refusals, admission's included); their
// preflights are answered here, without a key.
app.UseCrossOrigin();
// Uploads beyond the admission limit: 503 with Retry-After at once, before anything else is spent on them.
app.UseAdmission();
app.UseExceptionHandler();
app.UseStatusCodePages();
// The web page in wwwroot, at /.
app.UseDefaultFiles();
app.UseStaticFiles();
// 401/403/429 by API key before any endpoint runs.
app.UseApiKeys();
// A compressed body (Content-Encoding) is a 415 that says so, not a "malformed" body.
app.UseIdentityBodiesOnly();

// /prediction and /predictions: uploads (single and batch), reading, statistics, true labels, deletes and retention.
app.MapPredictions();
app.MapModels();
// GET /models/compare: two models or versions on the same inputs (agreement, accuracy, disagreements).
app.MapComparison();
app.MapHealth();
// /v2: the Open Inference Protocol (KServe V2) over REST; its inferences are stored as uploads are.
app.MapOpenInference();
// Prometheus metrics at /metrics.
app.MapMetrics();
// /openapi/v1.json and a browsable reference at /scalar (its script is served by the app, no CDN).
app.MapOpenApi().AllowAnonymous();
app.MapScalarApiReference(options =>
{
    // This product's reference: its name, operations listed by method and path, and none of the
    // reference tool's own product buttons (AI chat, developer tools, client generator) or telemetry.
    options.Title = "PredictionApi reference";
    options.OperationTitleSource = OperationTitleSource.Path;
    options.ShowDeveloperTools = DeveloperToolsVisibility.Never;
    options.HideClientButton = true;
    options.HideModels = true;
    options.Telemetry = false;
    options.Agent = new ScalarAgentOptions { Disabled = true };
    options.Mcp = new ScalarMcpOptions { Disabled = true };
}).AllowAnonymous();

// Until Ctrl+C or SIGTERM. A failed start is one line on stderr and exit code 1, with the private cluster stopped.
Environment.ExitCode = await StartupFailures.RunAsync(app, Console.Error);

public partial class Program;
