namespace PredictionApi.Inference;

public enum ModelState
{
    Loading,
    Ready,
    Failed,
    Unloaded,
}
