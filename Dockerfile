# syntax=docker/dockerfile:1

# Build: restore first (cached while only sources change), then publish the service with its models.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY global.json Directory.Build.props Directory.Packages.props ./
COPY src/PredictionApi/PredictionApi.csproj src/PredictionApi/
RUN dotnet restore src/PredictionApi/PredictionApi.csproj
# db/schema.sql is embedded in the assembly; models/ is published next to it (Model:Directory's default).
COPY db/ db/
COPY models/ models/
COPY src/PredictionApi/ src/PredictionApi/
RUN dotnet publish src/PredictionApi/PredictionApi.csproj -c Release -o /app --no-restore -p:UseAppHost=false

# Run: the ASP.NET runtime only, as the image's non-root "app" user.
FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
COPY --from=build /app ./
ENV ASPNETCORE_HTTP_PORTS=8080
EXPOSE 8080
USER $APP_UID
# Ready = model loaded and PostgreSQL reachable; the start period covers schema application and warm-up.
# The runtime image has no curl or wget: the program's own "healthcheck" command asks /health/ready.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["dotnet", "/app/PredictionApi.dll", "healthcheck"]
ENTRYPOINT ["dotnet", "PredictionApi.dll"]
