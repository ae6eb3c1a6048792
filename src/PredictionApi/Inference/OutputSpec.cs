using System.Text.Json;
using PredictionApi.Imaging;

namespace PredictionApi.Inference;

public sealed record OutputSpec(string Name, OutputKind Kind, int Classes);
