using System.Globalization;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using PredictionApi.Inference;

namespace PredictionApi.Predictions;

/// <summary>Predictions of one predicted class.</summary>
public sealed record ClassStats(int Class, string Label, long Count, double? MeanConfidence);
