using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace PredictionApi.Auth;

/// <summary>
/// Declares the bearer key in the OpenAPI document, on the operations that need one (those with a scope), so
/// the reference at /scalar offers a field for it and generated clients send it.
/// </summary>
internal static class AuthOpenApi
{
    private const string Scheme = "ApiKey";

    public static void Describe(OpenApiOptions options)
    {
        options.AddDocumentTransformer((document, _, _) =>
        {
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes[Scheme] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                Description = "An API key from 'keys create', as 'Authorization: Bearer <key>' (or 'X-API-Key: <key>'). " +
                    "Needed once any key exists (or with Auth:Required=true); each operation names the scope it needs.",
            };
            return Task.CompletedTask;
        });
        options.AddOperationTransformer((operation, context, _) =>
        {
            if (context.Description.ActionDescriptor.EndpointMetadata.OfType<RequiredScope>().LastOrDefault() is { } required)
            {
                operation.Security ??= [];
                operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(Scheme, context.Document)] = [required.Scope.Name()] });
                operation.Description = $"{operation.Description} Needs an API key with the '{required.Scope.Name()}' scope once keys are on.".Trim();
            }

            return Task.CompletedTask;
        });
    }
}
