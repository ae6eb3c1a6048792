namespace PredictionApi.Inference;

public enum OutputKind
{
    /// <summary>Decided per row: used as is when it already is a distribution, else softmax.</summary>
    Auto,
    Logits,
    Probabilities,
}
