namespace PredictionApi.Mnist;
