using Microsoft.ML.OnnxRuntime;
using PredictionApi.Mnist;

namespace PredictionApi.Tests.Infrastructure;

/// <summary>
/// A shipped model run through ONNX Runtime directly, as a user of it would: the oracle the service's answers are
/// compared with, written without the service's own code.
/// </summary>
public static class OfflineModel
{
    /// <summary>argmax of models/<paramref name="model"/> on pixel / 255 of the first <paramref name="count"/> images, one image per run.</summary>
    public static int[] Predictions(string model, IdxImages images, int count)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 1 };
        using var session = new InferenceSession(Path.Combine(RepoPaths.Models, model, "model.onnx"), options);
        using var runOptions = new RunOptions();
        var inputName = session.InputMetadata.Keys.First();
        var result = new int[count];
        var pixels = new float[28 * 28];
        for (var i = 0; i < count; i++)
        {
            var image = images.Image(i);
            for (var p = 0; p < pixels.Length; p++)
            {
                pixels[p] = image[p] / 255f;
            }

            using var input = OrtValue.CreateTensorValueFromMemory(pixels, [1, 1, 28, 28]);
            using var outputs = session.Run(runOptions, [inputName], [input], session.OutputNames);
            result[i] = ArgMax(outputs[0].GetTensorDataAsSpan<float>());
        }

        return result;
    }

    /// <summary>The index of the first of the largest scores.</summary>
    public static int ArgMax(ReadOnlySpan<float> scores)
    {
        var max = float.NegativeInfinity;
        foreach (var v in scores)
        {
            max = Math.Max(max, v);
        }

        return scores.IndexOf(max);
    }
}
