using Dapper;
using Npgsql;
using PredictionApi.Imaging;
using PredictionApi.Predictions;
using PredictionApi.Storage.InputStores;

namespace PredictionApi.Commands;

/// <summary>One image the predict command could not classify, and why.</summary>
public sealed record PredictFailure(string Name, string Reason);
