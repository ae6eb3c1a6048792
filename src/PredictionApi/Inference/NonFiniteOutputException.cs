namespace PredictionApi.Inference;

/// <summary>
/// The model's output held an infinity or NaN: no probabilities can be made of it. Preprocessed images never cause it;
/// tensors sent as they are (the Open Inference Protocol) can, with values far outside what the model was made for.
/// </summary>
public sealed class NonFiniteOutputException() : InvalidOperationException("The model produced a non-finite output value.");
