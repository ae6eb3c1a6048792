using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;

namespace PredictionApi.Tests.Hostile;

/// <summary>
/// Hand-written HTTP/1.1 over a plain socket, for requests HttpClient refuses to send: lying
/// Content-Length, broken multipart, bytes that are not UTF-8, a client that stops or vanishes.
/// </summary>
public static class RawHttp
{
    /// <summary>A multipart/form-data POST head (Connection: close) for <paramref name="body"/>, with its Content-Length unless given.</summary>
    public static byte[] Post(string path, string contentType, byte[] body, long? contentLength = null) =>
        [.. Encoding.Latin1.GetBytes($"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {contentType}\r\nContent-Length: {contentLength ?? body.Length}\r\nConnection: close\r\n\r\n"), .. body];

    /// <summary>A multipart body with one part: raw header bytes (not encoded by us) and content.</summary>
    public static byte[] Part(string boundary, byte[] headers, byte[] content, bool close = true) =>
        [.. Encoding.ASCII.GetBytes($"--{boundary}\r\n"), .. headers, .. "\r\n\r\n"u8.ToArray(), .. content, .. Encoding.ASCII.GetBytes(close ? $"\r\n--{boundary}--\r\n" : "\r\n")];

    /// <summary>Sends the bytes, then reads the whole answer (the server closes the connection) within <paramref name="timeout"/>.</summary>
    public static async Task<HttpResponseMessage> SendAsync(Uri server, byte[] request, TimeSpan? timeout = null)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, server.Port);
        var stream = tcp.GetStream();
        await stream.WriteAsync(request);
        using var received = new MemoryStream();
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(30));
        try
        {
            await stream.CopyToAsync(received, cts.Token);
        }
        catch (IOException)
        {
            // A reset after the answer was written still leaves the answer in hand.
        }

        return Parse(received.ToArray());
    }

    /// <summary>Sends <paramref name="request"/> and drops the connection with a reset, never reading an answer.</summary>
    public static async Task SendAndVanishAsync(Uri server, byte[] request)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, server.Port);
        await tcp.GetStream().WriteAsync(request);
        tcp.Client.LingerState = new LingerOption(true, 0);
        tcp.Close();
    }

    private static HttpResponseMessage Parse(byte[] bytes)
    {
        var text = Encoding.Latin1.GetString(bytes);
        var headEnd = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        Assert.True(headEnd > 0, $"no HTTP answer was received: '{text}'");
        var lines = text[..headEnd].Split("\r\n");
        var statusLine = lines[0].Split(' ', 3);
        var response = new HttpResponseMessage((HttpStatusCode)int.Parse(statusLine[1]));
        var body = bytes[(headEnd + 4)..];
        var headers = lines.Skip(1).Select(l => l.Split(':', 2)).ToDictionary(h => h[0].Trim(), h => h[1].Trim(), StringComparer.OrdinalIgnoreCase);
        if (headers.TryGetValue("Transfer-Encoding", out var te) && te.Contains("chunked", StringComparison.OrdinalIgnoreCase))
        {
            body = Dechunk(body);
        }

        response.Content = new ByteArrayContent(body);
        if (headers.TryGetValue("Content-Type", out var type))
        {
            response.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(type);
        }

        return response;
    }

    private static byte[] Dechunk(byte[] body)
    {
        using var output = new MemoryStream();
        var i = 0;
        while (i < body.Length)
        {
            var lineEnd = Array.IndexOf(body, (byte)'\n', i);
            var size = Convert.ToInt32(Encoding.ASCII.GetString(body, i, lineEnd - i).Trim(), 16);
            if (size == 0)
            {
                break;
            }

            output.Write(body, lineEnd + 1, size);
            i = lineEnd + 1 + size + 2;
        }

        return output.ToArray();
    }
}
