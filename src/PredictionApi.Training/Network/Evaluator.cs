using PredictionApi.Training.Data;

namespace PredictionApi.Training.Network;

/// <summary>Runs the trainer's own forward pass (inference mode) over a data set on all threads.</summary>
internal static class Evaluator
{
    /// <summary>Logits of every image, <c>Count x classes</c>.</summary>
    public static float[] Logits(ConvNet net, Dataset data, int threads)
    {
        var classes = net.Output.Size;
        var logits = new float[data.Count * classes];
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
        {
            var worker = new Worker(net);
            var rng = new Rng(0); // unused at inference: dropout is the identity
            var (start, count) = Trainer.Shard(data.Count, t, threads);
            for (var i = start; i < start + count; i++)
            {
                data.Image(i).CopyTo(worker.Input);
                worker.Forward(ref rng, training: false);
                worker.Logits.CopyTo(logits.AsSpan(i * classes, classes));
            }
        });
        return logits;
    }

    public static float Accuracy(ConvNet net, Dataset data, int threads) => Accuracy(Logits(net, data, threads), data.Labels);

    public static float Accuracy(ReadOnlySpan<float> logits, byte[] labels)
    {
        var classes = logits.Length / labels.Length;
        var correct = 0;
        for (var i = 0; i < labels.Length; i++)
        {
            if (SoftmaxCrossEntropy.ArgMax(logits.Slice(i * classes, classes)) == labels[i]) correct++;
        }
        return (float)correct / labels.Length;
    }
}
