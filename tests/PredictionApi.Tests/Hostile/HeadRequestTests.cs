using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace PredictionApi.Tests.Hostile;

/// <summary>HEAD wherever GET works (RFC 9110 §9.1), on real Kestrel: GET's status and headers, and no body on the wire.</summary>
public sealed class HeadRequestTests(HostileService service) : IClassFixture<HostileService>
{
    [Fact]
    public async Task HeadAnswersAsGetWithoutTheBody()
    {
        using var stored = await service.PostFileAsync(Mnist.Png(3));
        var id = (await stored.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("prediction_id").GetInt64();

        foreach (var path in new[] { $"/prediction/{id}/image", $"/prediction/{id}", "/predictions", "/predictions/stats", "/models", "/health/ready", "/" })
        {
            using var get = await service.Client.GetAsync(path);
            using var head = await service.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, path));
            Assert.True(head.StatusCode == get.StatusCode, $"HEAD {path}: {(int)head.StatusCode}, GET {(int)get.StatusCode}");
            Assert.Equal(HttpStatusCode.OK, head.StatusCode);
            Assert.Equal(get.Content.Headers.ContentType?.MediaType, head.Content.Headers.ContentType?.MediaType);
            Assert.Empty(await head.Content.ReadAsByteArrayAsync());
        }

        // A path without GET still says which methods it has.
        using var post = await service.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/prediction"));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, post.StatusCode);
        Assert.Contains("POST", post.Content.Headers.Allow);
        // A path with GET lists HEAD beside it, since HEAD works there.
        using (var put = await service.Client.PutAsync("/predictions", null))
        {
            Assert.Equal(HttpStatusCode.MethodNotAllowed, put.StatusCode);
            Assert.Contains("GET", put.Content.Headers.Allow);
            Assert.Contains("HEAD", put.Content.Headers.Allow);
        }

        // On the wire: the HEAD's answer ends at its headers, so the next answer on the connection follows at once.
        using var socket = new TcpClient();
        await socket.ConnectAsync(service.BaseAddress.Host, service.BaseAddress.Port);
        var stream = socket.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(
            $"HEAD /prediction/{id}/image HTTP/1.1\r\nHost: x\r\n\r\nGET /health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
        var text = Encoding.Latin1.GetString(await ReadToEndAsync(stream));
        var second = text.IndexOf("HTTP/1.1 ", 1, StringComparison.Ordinal);
        Assert.True(second > 0, text);
        Assert.EndsWith("\r\n\r\n", text[..second]);
        Assert.StartsWith("HTTP/1.1 200", text[second..]);
    }

    private static async Task<byte[]> ReadToEndAsync(NetworkStream stream)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        using var all = new MemoryStream();
        await stream.CopyToAsync(all, timeout.Token);
        return all.ToArray();
    }
}
