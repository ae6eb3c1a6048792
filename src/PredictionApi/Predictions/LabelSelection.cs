namespace PredictionApi.Predictions;

/// <summary>How many labels a response carries (at most <see cref="MaxLabels"/>) and how probable each must be.</summary>
public readonly record struct LabelSelection(int MaxLabels, float MinConfidence)
{
    public static LabelSelection Default(int classes) => new(Math.Min(TopLabels.DefaultMaxLabels, classes), 0);
}
