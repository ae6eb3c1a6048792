using Amazon.S3;
using Amazon.S3.Model;

namespace PredictionApi.Labelling;

/// <summary>One image to label: a name (stored as the input's filename) and how to read it.</summary>
public sealed record SourceImage(string Name, string Location);
