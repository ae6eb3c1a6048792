namespace PredictionApi.Inference;

/// <summary>
/// The model's output row cannot be made into probabilities: a value is not finite, or output.kind says probabilities
/// and a value is negative or the row is all zero. A model may do this for some inputs only (a Log or Sqrt on the
/// way), so it is an answer about one input, not a broken service; at warm-up it fails the load instead.
/// </summary>
public sealed class UnusableOutputException(string message) : InvalidOperationException(message);
