using System.Globalization;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using PredictionApi.Inference;

namespace PredictionApi.Predictions;

/// <summary>Counts by true label (rows) and predicted label (columns), both indexed by <see cref="Labels"/>.</summary>
public sealed record ConfusionMatrix(IReadOnlyList<string> Labels, long[][] Counts);
