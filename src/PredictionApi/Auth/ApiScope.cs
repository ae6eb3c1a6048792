namespace PredictionApi.Auth;

/// <summary>
/// What an API key may do. Every endpoint declares the one it needs with
/// <see cref="AuthExtensions.RequireScope{TBuilder}"/>; an endpoint that declares none needs <see cref="Admin"/>.
/// </summary>
public enum ApiScope
{
    /// <summary>Classify and store images: POST /prediction, the batch endpoint.</summary>
    Predict,

    /// <summary>Read what is stored: listings, one prediction, images, statistics, models.</summary>
    Read,

    /// <summary>Record true labels: PATCH /prediction/{id}.</summary>
    Feedback,

    /// <summary>Deletes, retention, model management, and every endpoint that names no scope.</summary>
    Admin,
}
