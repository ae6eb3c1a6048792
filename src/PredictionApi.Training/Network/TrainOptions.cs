using PredictionApi.Training.Data;

namespace PredictionApi.Training.Network;

/// <summary>Hyper-parameters of one training run. Everything random derives from <see cref="Seed"/>.</summary>
internal sealed record TrainOptions
{
    public int Seed { get; init; } = 1;
    public int Epochs { get; init; } = 80;
    public int BatchSize { get; init; } = 64;
    public float LearningRate { get; init; } = 2e-3f;
    public float WeightDecay { get; init; } = 1e-4f;
    public float LabelSmoothing { get; init; } = 0.05f;
    public int Threads { get; init; } = 2;
    public AugmentOptions Augment { get; init; } = new();

    /// <summary>Synthetic non-digit images added to every epoch, as a share of the training digits.</summary>
    public float NonDigitShare { get; init; } = 0.08f;

    /// <summary>Learning rate for a step: a short linear warm-up, then cosine decay to zero at the end of the run.</summary>
    public float LearningRateAt(int step, int totalSteps)
    {
        var warmup = Math.Min(200, totalSteps / 10);
        if (step < warmup) return LearningRate * (step + 1) / warmup;
        var progress = (float)(step - warmup) / Math.Max(1, totalSteps - warmup);
        return LearningRate * 0.5f * (1 + MathF.Cos(MathF.PI * progress));
    }
}
