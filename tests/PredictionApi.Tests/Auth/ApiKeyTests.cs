using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Dapper;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PredictionApi.Auth;
using PredictionApi.Observability;

namespace PredictionApi.Tests.Auth;

/// <summary>
/// Keys required (they exist in this service's database): what each refusal looks like, which endpoints stay
/// public, scopes, per-key limits, revocation and expiry, and that a key is never stored or logged.
/// </summary>
public sealed class ApiKeyTests(KeyedService service) : IClassFixture<KeyedService>
{
    [Fact]
    public async Task ARequestWithoutAKeyIs401ProblemWithABearerChallenge()
    {
        using var client = service.Client();

        using var response = await client.GetAsync("/predictions");

        await ProblemAssert.AssertProblemAsync(response, HttpStatusCode.Unauthorized, "Authorization: Bearer");
        Assert.StartsWith("Bearer", response.Headers.WwwAuthenticate.ToString());
        // Nothing was stored by a refused upload.
        using var upload = await client.PostAsync("/prediction", TestImages.Form(Mnist.Png(0), "refused.png"));
        Assert.Equal(HttpStatusCode.Unauthorized, upload.StatusCode);
        await using var connection = await service.DataSource.OpenConnectionAsync();
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM inputs WHERE filename = 'refused.png'"));
    }

    [Fact]
    public async Task ARequestWithoutAKeyFromAClientAcceptingOnlyXmlIsStillA401Problem()
    {
        // The framework's problem writer declines such a client; the refusal was a bare 500 instead.
        using var client = service.Client();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/predictions");
        request.Headers.TryAddWithoutValidation("Accept", "application/xml");

        using var response = await client.SendAsync(request);

        await ProblemAssert.AssertProblemAsync(response, HttpStatusCode.Unauthorized, "Authorization: Bearer");
    }

    [Fact]
    public async Task AnUnknownKeyIs401AndAKnownOneWorksAsBearerOrXApiKey()
    {
        using var unknown = service.Client(ApiKeyTokens.New());
        using var refused = await unknown.GetAsync("/predictions");
        await ProblemAssert.AssertProblemAsync(refused, HttpStatusCode.Unauthorized, "not one this service issued");
        Assert.Contains("invalid_token", refused.Headers.WwwAuthenticate.ToString());

        var key = await service.CreateAsync("reader", "read");
        using var bearer = service.Client(key);
        Assert.Equal(HttpStatusCode.OK, (await bearer.GetAsync("/predictions")).StatusCode);
        using var header = service.Client();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/predictions") { Headers = { { "X-API-Key", key } } };
        Assert.Equal(HttpStatusCode.OK, (await header.SendAsync(request)).StatusCode);
        // The scheme in any case, followed by a tab or several spaces.
        foreach (var authorization in new[] { $"bearer {key}", $"BEARER   {key}", $"Bearer\t{key}" })
        {
            using var spelled = new HttpRequestMessage(HttpMethod.Get, "/predictions");
            spelled.Headers.TryAddWithoutValidation("Authorization", authorization);
            Assert.True(HttpStatusCode.OK == (await header.SendAsync(spelled)).StatusCode, authorization.Replace(key, "<key>"));
        }
    }

    [Fact]
    public async Task AKeyWithoutTheScopeIs403NamingTheScopeNeeded()
    {
        using var reader = service.Client(await service.CreateAsync("reader", "read"));
        using var predictor = service.Client(await service.CreateAsync("predictor", "predict"));
        var stored = await predictor.PostPredictionAsync(Mnist.Png(1));
        var id = stored.GetProperty("prediction_id").GetInt64();

        var cases = new (HttpClient Client, Func<HttpClient, Task<HttpResponseMessage>> Send, string Scope)[]
        {
            (reader, c => c.PostAsync("/prediction", TestImages.Form(Mnist.Png(2))), "predict"),
            (reader, c => c.PostAsync("/predictions/batch", TestImages.Form(Mnist.Png(2))), "predict"),
            (predictor, c => c.GetAsync("/predictions"), "read"),
            (predictor, c => c.GetAsync($"/prediction/{id}"), "read"),
            (predictor, c => c.GetAsync($"/prediction/{id}/image"), "read"),
            (predictor, c => c.GetAsync("/predictions/stats"), "read"),
            (predictor, c => c.GetAsync("/models"), "read"),
            (predictor, c => c.GetAsync("/models/mnist"), "read"),
            (reader, c => c.PatchAsync($"/prediction/{id}", new StringContent("""{"true_label": "1"}""", Encoding.UTF8, "application/json")), "feedback"),
            (reader, c => c.DeleteAsync($"/prediction/{id}"), "admin"),
            (reader, c => c.DeleteAsync("/predictions?before=2000-01-01"), "admin"),
        };
        foreach (var (client, send, scope) in cases)
        {
            using var response = await send(client);
            await ProblemAssert.AssertProblemAsync(response, HttpStatusCode.Forbidden, $"'{scope}' scope");
            Assert.Contains($"scope=\"{scope}\"", response.Headers.WwwAuthenticate.ToString());
        }

        // The prediction survived the refused delete, and a key with the scope may do it.
        using var admin = service.Client(service.AllScopes);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync($"/prediction/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/prediction/{id}")).StatusCode);
    }

    [Fact]
    public async Task AMethodAPathDoesNotHaveIs405WithAllowForAnyValidKeyAnd401WithoutOne()
    {
        using var reader = service.Client(await service.CreateAsync("reader", "read"));
        using var anonymous = service.Client();
        foreach (var (method, path) in new[] { ("OPTIONS", "/predictions"), ("PUT", "/predictions"), ("OPTIONS", "/prediction/1/image"), ("POST", "/predictions/stats") })
        {
            // It was a 403 asking for the admin scope, though no key of any scope could make the request work.
            using var response = await reader.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));
            await ProblemAssert.AssertProblemAsync(response, HttpStatusCode.MethodNotAllowed, "not allowed");
            Assert.Contains("GET", response.Content.Headers.Allow);

            using var refused = await anonymous.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));
            await ProblemAssert.AssertProblemAsync(refused, HttpStatusCode.Unauthorized, "Authorization: Bearer");
        }
    }

    [Fact]
    public async Task HealthTheWebPageTheOpenApiDocumentTheReferenceAndMetricsNeedNoKey()
    {
        using var client = service.Client();
        foreach (var path in new[] { "/health/live", "/health/ready", "/", "/app.js", "/styles.css", "/openapi/v1.json", "/scalar/", "/metrics" })
        {
            using var response = await client.GetAsync(path);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path} answered {(int)response.StatusCode} without a key");
        }

        var ready = await client.GetFromJsonAsync<JsonElement>("/health/ready");
        Assert.StartsWith("on:", ready.GetProperty("checks").GetProperty("auth").GetProperty("description").GetString());
    }

    [Fact]
    public async Task TheOpenInferenceRoutesNeedKeysTooAndAnswerInTheProtocolsErrorShape()
    {
        using var anonymous = service.Client();
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/v2/health/live")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/v2/health/ready")).StatusCode);

        using var refused = await anonymous.GetAsync("/v2/models/mnist");
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.StartsWith("Bearer", refused.Headers.WwwAuthenticate.ToString());
        Assert.Contains("API key", (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());

        using var predictor = service.Client(await service.CreateAsync("predictor", "predict"));
        using var forbidden = await predictor.GetAsync("/v2/models/mnist");
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        Assert.Contains("'read' scope", (await forbidden.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());
        using var reader = service.Client(await service.CreateAsync("reader", "read"));
        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync("/v2/models/mnist")).StatusCode);
    }

    [Fact]
    public async Task MetricsNeedTheReadScopeWhenMetricsPublicIsFalse()
    {
        await using var closed = new PredictionApiFactory(service.ConnectionString, new Dictionary<string, string?> { ["Auth:MetricsPublic"] = "false" });
        using var anonymous = closed.CreateClient();
        await ProblemAssert.AssertProblemAsync(await anonymous.GetAsync("/metrics"), HttpStatusCode.Unauthorized);

        using var predictor = closed.CreateClient();
        predictor.DefaultRequestHeaders.Authorization = new("Bearer", await service.CreateAsync("predictor", "predict"));
        await ProblemAssert.AssertProblemAsync(await predictor.GetAsync("/metrics"), HttpStatusCode.Forbidden, "'read'");

        using var reader = closed.CreateClient();
        reader.DefaultRequestHeaders.Authorization = new("Bearer", await service.CreateAsync("reader", "read"));
        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync("/metrics")).StatusCode);
    }

    [Fact]
    public void EveryEndpointDeclaresAScopeOrIsPublic()
    {
        var endpoints = service.Factory.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>().ToList();
        Assert.NotEmpty(endpoints);
        var undeclared = endpoints.Where(e => e.Metadata.GetMetadata<RequiredScope>() is null && e.Metadata.GetMetadata<IAllowAnonymous>() is null)
            .Select(e => e.RoutePattern.RawText).ToList();
        Assert.Empty(undeclared);
        var scopes = endpoints.Where(e => e.Metadata.GetMetadata<RequiredScope>() is not null)
            .ToDictionary(e => $"{string.Join(",", e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["*"])} {e.RoutePattern.RawText}", e => e.Metadata.GetMetadata<RequiredScope>()!.Scope);
        Assert.Equal(ApiScope.Predict, scopes["POST /prediction/"]);
        Assert.Equal(ApiScope.Read, scopes["GET /predictions/"]);
        Assert.Equal(ApiScope.Feedback, scopes["PATCH /prediction/{id}"]);
        Assert.Equal(ApiScope.Admin, scopes["DELETE /predictions/"]);
        Assert.Equal(ApiScope.Read, scopes["GET /metrics"]);
    }

    [Fact]
    public async Task TheOpenApiDocumentDeclaresTheKeyAndTheScopeOfEachOperation()
    {
        using var client = service.Client();
        var document = await client.GetFromJsonAsync<JsonElement>("/openapi/v1.json");

        var scheme = document.GetProperty("components").GetProperty("securitySchemes").GetProperty("ApiKey");
        Assert.Equal("http", scheme.GetProperty("type").GetString());
        Assert.Equal("bearer", scheme.GetProperty("scheme").GetString());
        var paths = document.GetProperty("paths");
        string[] ScopesOf(string path, string method) => paths.GetProperty(path).GetProperty(method).GetProperty("security")[0]
            .GetProperty("ApiKey").EnumerateArray().Select(s => s.GetString()!).ToArray();
        Assert.Equal(["predict"], ScopesOf("/prediction", "post"));
        Assert.Equal(["read"], ScopesOf("/predictions", "get"));
        Assert.Equal(["feedback"], ScopesOf("/prediction/{id}", "patch"));
        Assert.Equal(["admin"], ScopesOf("/prediction/{id}", "delete"));
        Assert.True(paths.GetProperty("/prediction").GetProperty("post").GetProperty("responses").TryGetProperty("401", out _));
        Assert.True(paths.GetProperty("/prediction").GetProperty("post").GetProperty("responses").TryGetProperty("403", out _));
        Assert.True(paths.GetProperty("/prediction").GetProperty("post").GetProperty("responses").TryGetProperty("429", out _));
    }

    [Fact]
    public async Task AnEndpointThatDeclaresNoScopeNeedsAdmin()
    {
        // The real middleware on a request to an endpoint mapped without RequireScope, as a future one might be.
        var reached = 0;
        var endpoint = new Endpoint(_ => Task.CompletedTask, new EndpointMetadataCollection(), "undeclared");
        var middleware = ActivatorUtilities.CreateInstance<ApiKeyMiddleware>(service.Factory.Services, (RequestDelegate)(_ =>
        {
            reached++;
            return Task.CompletedTask;
        }));

        async Task<int> CallAsync(string key)
        {
            using var scope = service.Factory.Services.CreateScope();
            var context = new DefaultHttpContext { RequestServices = scope.ServiceProvider };
            context.Response.Body = new MemoryStream();
            context.Request.Headers.Authorization = $"Bearer {key}";
            context.SetEndpoint(endpoint);
            await middleware.InvokeAsync(context);
            return context.Response.StatusCode;
        }

        Assert.Equal(StatusCodes.Status403Forbidden, await CallAsync(await service.CreateAsync("nearly-all", "predict", "read", "feedback")));
        Assert.Equal(0, reached);
        Assert.Equal(StatusCodes.Status200OK, await CallAsync(await service.CreateAsync("admin", "admin")));
        Assert.Equal(1, reached);
    }

    [Fact]
    public async Task AKeyOverItsRequestsPerMinuteIs429WithRetryAfterAndCounted()
    {
        var (row, key) = await service.CreateKeyAsync("limited", ["read"], requestsPerMinute: 3);
        using var client = service.Client(key);
        using var other = service.Client(await service.CreateAsync("unlimited", "read"));
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/models")).StatusCode);
        }

        using var refused = await client.GetAsync("/models");

        var problem = await ProblemAssert.AssertProblemAsync(refused, HttpStatusCode.TooManyRequests, "3 requests per minute");
        Assert.Equal("https://tools.ietf.org/html/rfc6585#section-4", problem.GetProperty("type").GetString());
        var retryAfter = int.Parse(refused.Headers.GetValues("Retry-After").Single());
        Assert.InRange(retryAfter, 1, 60);
        // Another key is not held back by this one's limit.
        Assert.Equal(HttpStatusCode.OK, (await other.GetAsync("/models")).StatusCode);
        var metrics = await (await client.GetAsync("/metrics")).Content.ReadAsStringAsync();
        Assert.Matches($$"""predictionapi_rate_limited_total\{[^}]*key="{{row.Name}}"[^}]*\} 1""", metrics);
    }

    [Fact]
    public async Task ARevokedKeyIsRefusedWithinTheCacheTime()
    {
        var (row, key) = await service.CreateKeyAsync("revoked", ["read"]);
        using var client = service.Client(key);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/models")).StatusCode);

        Assert.True(await service.Store.RevokeAsync(row.Name, CancellationToken.None));
        var revoked = Stopwatch.StartNew();
        HttpResponseMessage response;
        while ((response = await client.GetAsync("/models")).StatusCode == HttpStatusCode.OK)
        {
            Assert.True(revoked.Elapsed < TimeSpan.FromSeconds(15), "the revoked key still worked after 15 s");
            await Task.Delay(200);
        }

        var cacheSeconds = service.Factory.Services.GetRequiredService<IOptions<AuthOptions>>().Value.CacheSeconds;
        Assert.True(revoked.Elapsed < TimeSpan.FromSeconds(cacheSeconds + 2), $"refused only after {revoked.Elapsed}");
        await ProblemAssert.AssertProblemAsync(response, HttpStatusCode.Unauthorized, "was revoked");
    }

    [Fact]
    public async Task AnExpiredKeyIsRefused()
    {
        var (_, key) = await service.CreateKeyAsync("expiring", ["read"], expiresAt: DateTime.UtcNow.AddSeconds(2));
        using var client = service.Client(key);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/models")).StatusCode);

        await Task.Delay(TimeSpan.FromSeconds(2.5));

        await ProblemAssert.AssertProblemAsync(await client.GetAsync("/models"), HttpStatusCode.Unauthorized, "expired");
    }

    [Fact]
    public async Task LastUseIsRecordedOnceAMinuteNotOnEveryRequest()
    {
        var (row, key) = await service.CreateKeyAsync("used", ["read"]);
        using var client = service.Client(key);
        await using var connection = await service.DataSource.OpenConnectionAsync();
        Task<DateTime?> LastUsedAsync() => connection.ExecuteScalarAsync<DateTime?>("SELECT last_used_at FROM api_keys WHERE id = @Id", new { row.Id });
        Assert.Null(await LastUsedAsync());

        await client.GetAsync("/models");
        DateTime? first = null;
        for (var i = 0; i < 50 && first is null; i++)
        {
            await Task.Delay(100);
            first = await LastUsedAsync();
        }

        Assert.NotNull(first);
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/models")).StatusCode);
        }

        await Task.Delay(500);
        Assert.Equal(first, await LastUsedAsync());
    }

    [Fact]
    public async Task AKeyIsStoredOnlyAsItsHashAndNeverLogged()
    {
        var (row, key) = await service.CreateKeyAsync("secret", ["predict", "read", "feedback", "admin"]);
        using var client = service.Client(key);
        var stored = await client.PostPredictionAsync(Mnist.Png(3));
        await client.GetAsync($"/prediction/{stored.GetProperty("prediction_id").GetInt64()}");
        await client.GetAsync("/predictions?limit=abc");
        await client.PostAsync("/prediction", new StringContent("{}", Encoding.UTF8, "application/json"));
        using var wrongKey = service.Client(key + "x");
        await wrongKey.GetAsync("/predictions");

        await using var connection = await service.DataSource.OpenConnectionAsync();
        var tables = (await connection.QueryAsync<string>("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).ToList();
        Assert.Contains("api_keys", tables);
        var hashHex = Convert.ToHexStringLower(ApiKeyTokens.Hash(key));
        var hashSeen = false;
        foreach (var table in tables)
        {
            // Every row of every table, as text (bytea as hex): the key must appear in none of them.
            var rows = await connection.QueryAsync<string>($"SELECT t::text FROM \"{table}\" t");
            foreach (var text in rows)
            {
                Assert.DoesNotContain(key, text, StringComparison.Ordinal);
                Assert.DoesNotContain(key[ApiKeyTokens.Prefix.Length..], text, StringComparison.Ordinal);
                hashSeen |= text.Contains(hashHex, StringComparison.Ordinal);
            }
        }

        Assert.True(hashSeen, "the key's SHA-256 should be in api_keys");
        Assert.NotEmpty(service.Logs.Entries);
        Assert.Contains(service.Logs.Entries, e => e.Message.Contains(row.Name, StringComparison.Ordinal));
        Assert.DoesNotContain(service.Logs.Entries, e => (e.Message + e.Exception + string.Join(";", e.Fields)).Contains(key[ApiKeyTokens.Prefix.Length..], StringComparison.Ordinal));
    }

    [Fact]
    public async Task IdempotencyKeysBelongToTheApiKeyThatSentThem()
    {
        using var alice = service.Client(await service.CreateAsync("idem-alice", "predict"));
        using var bob = service.Client(await service.CreateAsync("idem-bob", "predict"));
        var key = Guid.NewGuid().ToString();

        async Task<(HttpResponseMessage Response, long Id)> PostAsync(HttpClient client, int digit)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/prediction") { Content = TestImages.Form(Mnist.Png(digit)) };
            request.Headers.Add("Idempotency-Key", key);
            var response = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return (response, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("prediction_id").GetInt64());
        }

        var (first, aliceId) = await PostAsync(alice, 1);
        // The same text from another client is that client's own key: a new upload, not alice's answer, and no 422
        // for other files.
        var (second, bobId) = await PostAsync(bob, 2);
        Assert.NotEqual(aliceId, bobId);
        Assert.False(second.Headers.Contains("Idempotent-Replayed"));
        var (replay, replayedId) = await PostAsync(alice, 1);
        Assert.Equal("true", replay.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(aliceId, replayedId);
        first.Dispose();
        second.Dispose();
        replay.Dispose();
    }

    [Fact]
    public async Task EachRequestIsOneInformationLineWithRouteStatusDurationModelAndKey()
    {
        var (row, key) = await service.CreateKeyAsync("logged", ["predict", "read"]);
        using var client = service.Client(key);
        var stored = await client.PostPredictionAsync(Mnist.Png(4));
        var id = stored.GetProperty("prediction_id").GetInt64();
        await client.GetAsync($"/prediction/{id}");
        await client.DeleteAsync($"/prediction/{id}");
        // A request that ends in the exception handler (an unknown model) keeps its route; a model name that is not one
        // (a line break would forge a log line) is not copied into the log.
        using (var unknown = await client.PostAsync("/prediction?model=nosuch", TestImages.Form(Mnist.Png(4))))
        {
            Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        }

        using (await client.PostAsync("/prediction?model=" + Uri.EscapeDataString("x\nfail: forged"), TestImages.Form(Mnist.Png(4))))
        {
        }

        var lines = service.Logs.Entries.Where(e => e.Category == typeof(RequestLog).FullName && Equals(e["Key"], row.Name)).ToList();
        Assert.Equal(5, lines.Count);
        Assert.All(lines, l => Assert.Equal(LogLevel.Information, l.Level));
        Assert.Equal(["POST /prediction/ 200 mnist", $"GET /prediction/{{id}} 200 -", "DELETE /prediction/{id} 403 -",
                "POST /prediction/ 404 nosuch", "POST /prediction/ 400 (invalid)"],
            lines.Select(l => $"{l["Method"]} {l["Route"]} {l["Status"]} {l["Model"]}"));
        Assert.DoesNotContain(lines, l => l.Message.Contains('\n'));
        Assert.All(lines, l => Assert.IsType<double>(l["DurationMs"]));
        // The raw path (with the id) is not the route.
        Assert.DoesNotContain(lines, l => l.Message.Contains($"/prediction/{id}", StringComparison.Ordinal));
    }
}
