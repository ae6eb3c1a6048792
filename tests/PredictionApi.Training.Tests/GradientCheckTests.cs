using PredictionApi.Training.Network;

namespace PredictionApi.Training.Tests;

/// <summary>
/// Back-propagated gradients agree with central finite differences, for each layer on its own
/// (objective: a random projection of the layer output) and for a whole network with its loss.
/// </summary>
public sealed class GradientCheckTests
{
    private const float Epsilon = 2e-3f;

    public static TheoryData<string> Layers => ["conv", "conv-multi-channel", "maxpool", "relu", "dense", "dense-from-spatial", "dropout"];

    [Theory]
    [MemberData(nameof(Layers))]
    public void LayerGradientsMatchFiniteDifferences(string kind)
    {
        var net = kind switch
        {
            "conv" => new ConvNet(new Shape(1, 7, 6)).Conv(3, 3),
            "conv-multi-channel" => new ConvNet(new Shape(3, 6, 6)).Conv(4, 5),
            "maxpool" => new ConvNet(new Shape(2, 6, 5)).MaxPool(),
            "relu" => new ConvNet(new Shape(2, 3, 3)).Relu(),
            "dense" => new ConvNet(new Shape(7, 1, 1)).Dense(5),
            "dense-from-spatial" => new ConvNet(new Shape(2, 3, 3)).Dense(4),
            "dropout" => new ConvNet(new Shape(12, 1, 1)).Dropout(0.4f),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
        net.Initialize(seed: 11);
        var random = new Random(42);
        foreach (var p in net.Parameters)
        {
            for (var i = 0; i < p.Value.Length; i++) p.Value[i] = Normal(random);
        }
        // Inputs kept away from zero so no ReLU kink lies within the finite-difference step.
        var x = Enumerable.Range(0, net.Input.Size).Select(_ => Normal(random) is var v && v >= 0 ? v + 0.1f : v - 0.1f).ToArray();
        var r = Enumerable.Range(0, net.Output.Size).Select(_ => Normal(random)).ToArray();
        var worker = new Worker(net);

        float Objective()
        {
            x.CopyTo(worker.Input);
            var rng = Rng.For(7, 7, 7); // same dropout mask on every pass
            worker.Forward(ref rng, training: true);
            var sum = 0f;
            for (var i = 0; i < r.Length; i++) sum += r[i] * worker.Logits[i];
            return sum;
        }

        Objective();
        r.CopyTo(worker.OutputDelta);
        worker.ClearGradients();
        worker.Backward(inputGradient: true);
        var analyticInput = worker.InputDelta.ToArray();

        var checkedValues = CheckAll(x, analyticInput, Objective);
        var layerIndex = 0;
        foreach (var (parameter, index) in net.Layers[layerIndex].Parameters.Select((p, i) => (p, i)))
            checkedValues += CheckAll(parameter.Value, worker.Gradients[layerIndex][index], Objective);
        Assert.True(checkedValues > 0);
    }

    [Fact]
    public void WholeNetworkLossGradientMatchesFiniteDifferences()
    {
        var net = new ConvNet(new Shape(1, 12, 12)).Conv(4, 3).Relu().MaxPool().Conv(6, 3).Relu().MaxPool().Dense(8).Relu().Dropout(0.25f).Dense(5).Initialize(3);
        var random = new Random(9);
        var x = Enumerable.Range(0, net.Input.Size).Select(_ => (float)random.NextDouble()).ToArray();
        const int label = 2;
        var worker = new Worker(net);

        float Loss()
        {
            x.CopyTo(worker.Input);
            var rng = Rng.For(1, 2, 3);
            worker.Forward(ref rng, training: true);
            return SoftmaxCrossEntropy.LossAndGradient(worker.Logits, label, new float[5], smoothing: 0.1f);
        }

        x.CopyTo(worker.Input);
        var rng = Rng.For(1, 2, 3);
        worker.ClearGradients();
        worker.Train(label, ref rng, smoothing: 0.1f, out _);

        var total = 0;
        for (var l = 0; l < net.Layers.Count; l++)
        {
            var parameters = net.Layers[l].Parameters;
            for (var p = 0; p < parameters.Count; p++)
                total += CheckAll(parameters[p].Value, worker.Gradients[l][p], Loss, stride: 3);
        }
        Assert.True(total > 100, $"only {total} values checked");
    }

    [Fact]
    public void SoftmaxCrossEntropyGradientIsProbabilitiesMinusTarget()
    {
        float[] logits = [1f, -2f, 0.5f, 3f];
        var gradient = new float[4];
        var loss = SoftmaxCrossEntropy.LossAndGradient(logits, 3, gradient);

        var sum = logits.Sum(MathF.Exp);
        Assert.Equal(-MathF.Log(MathF.Exp(3) / sum), loss, 1e-5f);
        for (var k = 0; k < 4; k++) Assert.Equal(MathF.Exp(logits[k]) / sum - (k == 3 ? 1 : 0), gradient[k], 1e-6f);
        Assert.Equal(0f, gradient.Sum(), 1e-6f);
    }

    /// <summary>Compares every <paramref name="stride"/>-th analytic gradient with a central difference; returns how many were checked.</summary>
    private static int CheckAll(float[] values, ReadOnlySpan<float> analytic, Func<float> objective, int stride = 1)
    {
        var count = 0;
        for (var i = 0; i < values.Length; i += stride, count++)
        {
            var saved = values[i];
            values[i] = saved + Epsilon;
            var plus = objective();
            values[i] = saved - Epsilon;
            var minus = objective();
            values[i] = saved;
            var numeric = (plus - minus) / (2 * Epsilon);
            var tolerance = 2e-3f + 2e-2f * Math.Abs(numeric);
            Assert.True(Math.Abs(numeric - analytic[i]) <= tolerance,
                $"value {i}: analytic {analytic[i]:G6} vs numeric {numeric:G6}");
        }
        return count;
    }

    private static float Normal(Random random) =>
        (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
}
