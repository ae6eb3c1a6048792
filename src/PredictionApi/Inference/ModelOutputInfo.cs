using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using PredictionApi.Problems;

namespace PredictionApi.Inference;

public sealed record ModelOutputInfo(string Name, string Kind, int Classes);
