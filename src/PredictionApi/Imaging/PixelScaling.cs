namespace PredictionApi.Imaging;

public enum PixelScaling
{
    /// <summary>pixel / 255, 0..1.</summary>
    Unit,

    /// <summary>pixel as 0..255.</summary>
    Raw,

    /// <summary>(pixel / 255 - mean[c]) / std[c].</summary>
    Standard,
}
