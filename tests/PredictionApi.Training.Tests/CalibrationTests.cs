using Microsoft.ML.OnnxRuntime;
using PredictionApi.Training.Calibration;
using PredictionApi.Training.Data;
using PredictionApi.Training.Export;
using PredictionApi.Training.Network;

namespace PredictionApi.Training.Tests;

public sealed class CalibrationTests
{
    [Fact]
    public void ExpectedCalibrationErrorOfAHandMadeCase()
    {
        // Two classes. Five predictions at 80 % of which three are right (gap 0.2), five at 60 % all right (gap 0.4):
        // ECE = 0.5 * 0.2 + 0.5 * 0.4 = 0.3.
        var sure = MathF.Log(0.8f / 0.2f);
        var unsure = MathF.Log(0.6f / 0.4f);
        float[] logits = [.. Enumerable.Repeat(new[] { sure, 0f }, 5).SelectMany(r => r), .. Enumerable.Repeat(new[] { unsure, 0f }, 5).SelectMany(r => r)];
        byte[] labels = [0, 0, 0, 1, 1, 0, 0, 0, 0, 0];

        Assert.Equal(0.3, CalibrationError.Expected(logits, labels), 1e-5);
        // All at 60 % and right three times in five: calibrated, zero.
        Assert.Equal(0, CalibrationError.Expected([unsure, 0f, unsure, 0f, unsure, 0f, 0f, unsure, 0f, unsure], [0, 0, 0, 0, 0]), 1e-6);
    }

    [Fact]
    public void FittedTemperatureMakesAnOverconfidentModelHonest()
    {
        // Every row puts logit 10 on its prediction and is right 80 % of the time; the honest top probability is 0.8,
        // reached when exp(10 / T) / (exp(10 / T) + 9) = 0.8, that is T = 10 / ln 36.
        const int rows = 1000;
        var logits = new float[rows * 10];
        var labels = new byte[rows];
        for (var i = 0; i < rows; i++)
        {
            var predicted = i % 10;
            logits[i * 10 + predicted] = 10;
            labels[i] = (byte)(i % 5 == 0 ? (predicted + 1) % 10 : predicted);
        }

        var t = TemperatureScaling.Fit(logits, labels);

        Assert.Equal(10 / Math.Log(36), t, 2e-3);
        Assert.True(TemperatureScaling.NegativeLogLikelihood(logits, labels, t) < TemperatureScaling.NegativeLogLikelihood(logits, labels, 1) - 0.5);
        Assert.True(CalibrationError.Expected(logits, labels, t) < 1e-3);
        Assert.True(CalibrationError.Expected(logits, labels) > 0.19);
    }

    [Fact]
    public void ExportedGraphDividesTheTrainersLogitsByTheTemperature()
    {
        var data = Dataset.Load(RepoPaths.T10kImages, RepoPaths.T10kLabels, limit: 200);
        var net = ConvNet.Mnist().Initialize(3);
        const float temperature = 0.62f;
        using var ort = new OrtModel(net.ToOnnx("check", "test", temperature: temperature).ToBytes());

        var fromOrt = ort.Run(data);
        var fromTrainer = Evaluator.Logits(net, data, threads: 2);

        var maxDiff = fromOrt.Zip(fromTrainer, (a, b) => Math.Abs(a - b / temperature)).Max();
        Assert.True(maxDiff <= 1e-5f, $"max difference {maxDiff}");
        Assert.True(fromTrainer.Zip(fromOrt).Any(p => Math.Abs(p.First - p.Second) > 1e-2f), "the division must change the logits");
        using var session = new InferenceSession(net.ToOnnx("check", "test", temperature: temperature).ToBytes());
        Assert.Equal("logits", Assert.Single(session.OutputMetadata).Key);
    }

    [Fact]
    public void TopProbabilitySummaryCountsTheSureOnes()
    {
        float[] top = [0.2f, 0.5f, 0.95f, 0.995f];
        var summary = TopProbabilities.Summarise(top);

        Assert.Equal(0.661, summary.Mean, 3);
        Assert.Equal(0.5, summary.Above09);
        Assert.Equal(0.25, summary.Above099);
        Assert.Equal(0.95f, summary.Median, 3);
    }
}
