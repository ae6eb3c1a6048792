namespace PredictionApi.Imaging;

public enum PreprocessProfile
{
    None,
    Mnist,
    Fashion,
}
