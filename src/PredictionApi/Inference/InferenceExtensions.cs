namespace PredictionApi.Inference;

internal static class InferenceExtensions
{
    /// <summary>The models in Model:Directory, loaded and warmed up before the service takes requests, and polled for changes when configured.</summary>
    public static WebApplicationBuilder AddInference(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<ModelOptions>()
            .BindConfiguration(ModelOptions.Section)
            .ValidateDataAnnotations()
            .Validate(o => System.IO.Directory.Exists(o.Directory),
                "Model:Directory does not exist. Point it at the folder that holds model folders (each with model.onnx and model.json).")
            .ValidateOnStart();
        builder.Services.AddSingleton<ModelRegistry>();
        builder.Services.AddSingleton<ModelWarmup>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ModelWarmup>());
        builder.Services.AddHostedService<ModelPoller>();
        return builder;
    }
}
