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
