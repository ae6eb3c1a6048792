using PredictionApi.Imaging;

namespace PredictionApi.Training.Uploads;

/// <summary>The service's path from a decoded grayscale upload to the model input under the <c>mnist</c> or <c>fashion</c> profile.</summary>
internal static class ServicePreprocessing
{
    /// <summary>Writes the 28x28 model input (0..1) for <paramref name="image"/>, exactly as the service computes it.</summary>
    public static void ToModelInput(GrayImage image, Span<float> input, PreprocessProfile profile = PreprocessProfile.Mnist)
    {
        if (profile == PreprocessProfile.Fashion) FashionProfile.Apply(image.Pixels, image.Width, image.Height, input);
        else MnistProfile.Apply(image.Pixels, image.Width, image.Height, input);
        // Same clamp and division as the service's tensor writer, so results match bit for bit.
        for (var i = 0; i < MnistProfile.Size * MnistProfile.Size; i++) input[i] = Math.Clamp(input[i], 0f, 255f) / 255f;
    }
}
