using System.Security.Cryptography;
using System.Text.Json;
using Dapper;
using Npgsql;
using PredictionApi.Imaging;
using PredictionApi.Storage.InputStores;

namespace PredictionApi.Predictions;

/// <summary>A prediction row to insert, for a new input or one already stored.</summary>
public sealed record NewPrediction(string ModelName, string ModelVersion, float[] Probabilities, int LikelyClass, float Confidence);
