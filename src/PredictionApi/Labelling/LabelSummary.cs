using Dapper;
using Npgsql;
using PredictionApi.Imaging;
using PredictionApi.Predictions;
using PredictionApi.Storage.InputStores;

namespace PredictionApi.Labelling;

/// <summary>What a run of the label command did.</summary>
public sealed record LabelSummary(int Total, int Labelled, int Skipped, int Ignored, IReadOnlyList<LabelFailure> Failures, IReadOnlyDictionary<int, int> PerClass, TimeSpan Elapsed);
