using Microsoft.Extensions.Options;

namespace PredictionApi.Inference;

internal static class InferenceExtensions
{
    /// <summary>The model named in configuration, loaded and warmed up before the service takes requests.</summary>
    public static WebApplicationBuilder AddInference(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<ModelOptions>()
            .BindConfiguration(ModelOptions.Section)
            .ValidateDataAnnotations()
            .Validate(o => System.IO.Directory.Exists(o.Directory),
                "Model:Directory does not exist. Point it at the folder that holds model folders (each with model.onnx and model.json).")
            .ValidateOnStart();
        builder.Services.AddSingleton(sp => ModelLoader.Load(
            sp.GetRequiredService<IOptions<ModelOptions>>().Value, sp.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ModelLoader))));
        builder.Services.AddSingleton<ModelWarmup>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ModelWarmup>());
        return builder;
    }
}

/// <summary>
/// Loads the model at start-up (a broken model folder stops the service with a clear message instead
/// of failing the first request) and runs one inference so the first caller does not pay for warm-up.
/// </summary>
internal sealed class ModelWarmup(IServiceProvider services) : IHostedService
{
    private volatile bool _ready;

    /// <summary>True once the model answered its warm-up inference.</summary>
    public bool Ready => _ready;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var classifier = services.GetRequiredService<ImageClassifier>();
        classifier.Classify(new float[classifier.Spec.Input.TensorLength], new float[classifier.Spec.Output.Classes]);
        _ready = true;
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
