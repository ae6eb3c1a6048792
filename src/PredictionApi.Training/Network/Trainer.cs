using System.Diagnostics;
using PredictionApi.Training.Data;

namespace PredictionApi.Training.Network;

/// <summary>Summary of one epoch, reported as training goes.</summary>
internal sealed record EpochReport(int Epoch, float Loss, float TrainAccuracy, float? ValidationAccuracy, TimeSpan Elapsed);

/// <summary>
/// Mini-batch training on all threads with results that do not depend on timing: each batch is cut into
/// fixed shards, one per worker, every sample draws its randomness from its own (seed, epoch, index) stream,
/// and the workers' gradient sums are added in worker order before the optimiser step.
/// </summary>
internal sealed class Trainer(ConvNet net, TrainOptions options)
{
    private readonly Parameter[] parameters = [.. net.Parameters];

    public IReadOnlyList<EpochReport> Train(Dataset train, Dataset? validation, Action<EpochReport>? progress = null)
    {
        var workers = Enumerable.Range(0, options.Threads).Select(_ => new Worker(net)).ToArray();
        var augmenters = workers.Select(_ => new Augmenter(options.Augment, train.Shape.Height, train.Shape.Width)).ToArray();
        var adam = new Adam(parameters) { WeightDecay = options.WeightDecay };
        var averaged = parameters.Select(p => new float[p.Value.Length]).ToArray();
        var losses = new double[workers.Length];
        var correct = new int[workers.Length];
        // Non-digits get the indices after the digits', so they are shuffled into the batches like any image.
        var nonDigits = (int)MathF.Round(train.Count * options.NonDigitShare);
        var samples = train.Count + nonDigits;
        var stepsPerEpoch = (samples + options.BatchSize - 1) / options.BatchSize;
        var totalSteps = stepsPerEpoch * options.Epochs;
        var clock = Stopwatch.StartNew();
        var reports = new List<EpochReport>();

        for (var epoch = 0; epoch < options.Epochs; epoch++)
        {
            var order = Shuffle(samples, epoch);
            Array.Clear(losses);
            Array.Clear(correct);
            for (var step = 0; step < stepsPerEpoch; step++)
            {
                var batch = order.AsMemory(step * options.BatchSize, Math.Min(options.BatchSize, samples - step * options.BatchSize));
                Parallel.For(0, workers.Length, new ParallelOptions { MaxDegreeOfParallelism = workers.Length }, w =>
                {
                    var (start, count) = Shard(batch.Length, w, workers.Length);
                    var worker = workers[w];
                    worker.ClearGradients();
                    foreach (var index in batch.Span.Slice(start, count))
                    {
                        var rng = Rng.For(options.Seed, stream: 1000 + epoch, index);
                        if (index >= train.Count)
                        {
                            // Not a digit: the target is the uniform distribution (label smoothing 1).
                            NonDigits.Generate(worker.Input, ref rng);
                            losses[w] += worker.Train(0, ref rng, smoothing: 1, out _);
                            continue;
                        }
                        augmenters[w].Apply(train.Image(index), worker.Input, ref rng);
                        losses[w] += worker.Train(train.Labels[index], ref rng, options.LabelSmoothing, out var ok);
                        if (ok) correct[w]++;
                    }
                });
                Reduce(workers, averaged, batch.Length);
                adam.Step(averaged, options.LearningRateAt(epoch * stepsPerEpoch + step, totalSteps));
            }

            float? validationAccuracy = validation is { Count: > 0 } ? Evaluator.Accuracy(net, validation, options.Threads) : null;
            var report = new EpochReport(epoch + 1, (float)(losses.Sum() / samples), (float)correct.Sum() / train.Count, validationAccuracy, clock.Elapsed);
            reports.Add(report);
            progress?.Invoke(report);
        }
        return reports;
    }

    /// <summary>Contiguous part <paramref name="worker"/> of <paramref name="length"/> items.</summary>
    public static (int Start, int Count) Shard(int length, int worker, int workers)
    {
        var start = length * worker / workers;
        return (start, length * (worker + 1) / workers - start);
    }

    private int[] Shuffle(int count, int epoch)
    {
        var order = Enumerable.Range(0, count).ToArray();
        var rng = Rng.For(options.Seed, stream: 3, index: epoch);
        for (var i = order.Length - 1; i > 0; i--)
        {
            var j = rng.Next(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }

    // Always worker 0 + worker 1 + ... so floating-point rounding is the same on every run.
    private static void Reduce(Worker[] workers, float[][] averaged, int batchSize)
    {
        var p = 0;
        for (var layer = 0; layer < workers[0].Gradients.Length; layer++)
        for (var param = 0; param < workers[0].Gradients[layer].Length; param++, p++)
        {
            var sum = averaged[p];
            workers[0].Gradients[layer][param].CopyTo(sum, 0);
            for (var w = 1; w < workers.Length; w++) System.Numerics.Tensors.TensorPrimitives.Add(sum, workers[w].Gradients[layer][param], sum);
            System.Numerics.Tensors.TensorPrimitives.Multiply(sum, 1f / batchSize, sum);
        }
    }
}
