namespace PredictionApi.Inference;

/// <summary>A request's hold on a loaded model version: the session stays open until it is disposed.</summary>
public readonly struct ModelLease(LoadedModel model) : IDisposable
{
    public LoadedModel Model { get; } = model;

    public ImagePredictor Predictor => Model.Predictor;

    public ModelSpec Spec => Model.Spec;

    public void Dispose() => Model?.Exit();
}
