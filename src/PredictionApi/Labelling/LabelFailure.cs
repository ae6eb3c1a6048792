using Dapper;
using Npgsql;
using PredictionApi.Imaging;
using PredictionApi.Predictions;
using PredictionApi.Storage.InputStores;

namespace PredictionApi.Labelling;

/// <summary>One image the label command could not label, and why.</summary>
public sealed record LabelFailure(string Name, string Reason);
