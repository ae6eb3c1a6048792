using PredictionApi.Mnist;
using PredictionApi.Training.Network;

namespace PredictionApi.Training.Data;

/// <summary>Images as floats in 0..1 (pixel / 255, the scaling the exported model declares) with their labels.</summary>
internal sealed class Dataset(int count, Shape shape, float[] pixels, byte[] labels)
{
    public int Count { get; } = count;

    public Shape Shape { get; } = shape;

    public float[] Pixels { get; } = pixels;

    public byte[] Labels { get; } = labels;

    public ReadOnlySpan<float> Image(int index) => Pixels.AsSpan(index * Shape.Size, Shape.Size);

    public static Dataset Load(string imagesPath, string labelsPath, int limit = int.MaxValue)
    {
        var (images, labels) = IdxFile.ReadLabelled(imagesPath, labelsPath);
        var count = Math.Min(images.Count, limit);
        var pixels = new float[count * images.PixelsPerImage];
        for (var i = 0; i < pixels.Length; i++) pixels[i] = images.Pixels[i] / 255f;
        return new Dataset(count, new Shape(1, images.Rows, images.Columns), pixels, labels[..count]);
    }

    /// <summary>Splits off <paramref name="validationCount"/> items chosen by a seeded shuffle; the rest is for training.</summary>
    public (Dataset Train, Dataset Validation) Split(int validationCount, int seed)
    {
        if (validationCount < 0 || validationCount >= Count)
            throw new ArgumentOutOfRangeException(nameof(validationCount), validationCount, $"Validation size must be 0..{Count - 1}.");
        var order = Enumerable.Range(0, Count).ToArray();
        var rng = Rng.For(seed, stream: 2, index: 0);
        for (var i = order.Length - 1; i > 0; i--)
        {
            var j = rng.Next(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return (Subset(order[validationCount..]), Subset(order[..validationCount]));
    }

    private Dataset Subset(int[] indices)
    {
        var pixels = new float[indices.Length * Shape.Size];
        var labels = new byte[indices.Length];
        for (var i = 0; i < indices.Length; i++)
        {
            Image(indices[i]).CopyTo(pixels.AsSpan(i * Shape.Size));
            labels[i] = Labels[indices[i]];
        }
        return new Dataset(indices.Length, Shape, pixels, labels);
    }
}
