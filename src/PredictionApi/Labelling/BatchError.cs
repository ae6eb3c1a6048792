using System.Text.Json.Serialization;
using PredictionApi.Predictions;

namespace PredictionApi.Labelling;

/// <summary>Why one file of a batch was not labelled, in the shape of problem details.</summary>
public sealed record BatchError(int Status, string Title, string Detail);
