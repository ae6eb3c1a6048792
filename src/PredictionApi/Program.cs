using System.Text.Json;
using PredictionApi.Health;
using PredictionApi.Imaging;
using PredictionApi.Inference;
using PredictionApi.Predictions;
using PredictionApi.Problems;
using PredictionApi.Storage;
using Scalar.AspNetCore;

var builder = WebApplication.CreateBuilder(args);

// Every error is an RFC 7807 problem details body.
builder.AddProblems();
// PostgreSQL: one NpgsqlDataSource, schema applied at start-up; a private local cluster without a connection string.
builder.AddStorage();
// The ONNX model from Model:Directory/Model:Name, loaded and warmed up before requests arrive.
builder.AddInference();
// Decoding and preprocessing uploads into the model's input tensor.
builder.AddImaging();
// Upload limits and the prediction store.
builder.AddPredictions();
// Liveness and readiness (model loaded, database reachable).
builder.AddHealth();
// The OpenAPI document; JSON is snake_case, as clients of the original service expect.
builder.Services.AddOpenApi();
builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower);

var app = builder.Build();

app.UseExceptionHandler();
app.UseStatusCodePages();
// The web page in wwwroot, at /.
app.UseDefaultFiles();
app.UseStaticFiles();

app.MapPredictions();
// Listing with filters, statistics, and true labels recorded as feedback.
app.MapPredictionQueries();
app.MapPredictionStats();
app.MapFeedback();
app.MapModels();
app.MapHealth();
// /openapi/v1.json and a browsable reference at /scalar (its script is served by the app, no CDN).
app.MapOpenApi();
app.MapScalarApiReference();

app.Run();

public partial class Program;
