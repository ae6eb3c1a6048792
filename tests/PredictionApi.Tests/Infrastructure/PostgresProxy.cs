using System.Net;
using System.Net.Sockets;
using System.Text;
using Npgsql;

namespace PredictionApi.Tests.Infrastructure;

/// <summary>
/// A TCP proxy on 127.0.0.1 between the service and PostgreSQL that can lose a reply on purpose: once
/// armed with <see cref="DropReplyContaining"/>, the first chunk from the server that holds the given
/// text (a CommandComplete tag such as "COMMIT") is not forwarded and both sides are closed, so the
/// server has done the work and the client never hears of it. <see cref="Refuse"/> closes new
/// connections at once, as an unreachable database would.
/// </summary>
public sealed class PostgresProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly EndPoint _target;
    private readonly CancellationTokenSource _stop = new();
    private byte[]? _dropTag;

    public PostgresProxy(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        var host = builder.Host!;
        _target = host.StartsWith('/') ? new UnixDomainSocketEndPoint(Path.Combine(host, $".s.PGSQL.{builder.Port}")) : new DnsEndPoint(host, builder.Port);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        // Through the proxy, without pooling surprises: the service gets this as its connection string.
        ConnectionString = new NpgsqlConnectionStringBuilder(connectionString) { Host = "127.0.0.1", Port = Port }.ConnectionString;
        _ = AcceptAsync();
    }

    public int Port { get; }

    public string ConnectionString { get; }

    /// <summary>New connections are closed at once while this is set.</summary>
    public bool Refuse { get; set; }

    /// <summary>Loses the next server reply that contains <paramref name="tag"/>.</summary>
    public void DropReplyContaining(string tag) => Volatile.Write(ref _dropTag, Encoding.ASCII.GetBytes(tag));

    /// <summary>True once the armed reply was dropped.</summary>
    public bool Dropped => Volatile.Read(ref _dropTag) is null;

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }

            if (Refuse)
            {
                client.Dispose();
                continue;
            }

            _ = RelayAsync(client);
        }
    }

    private async Task RelayAsync(Socket client)
    {
        using var server = new Socket(_target.AddressFamily == AddressFamily.Unspecified ? AddressFamily.InterNetwork : _target.AddressFamily, SocketType.Stream,
            _target is UnixDomainSocketEndPoint ? ProtocolType.Unspecified : ProtocolType.Tcp);
        using (client)
        {
            try
            {
                await server.ConnectAsync(_target, _stop.Token);
                await Task.WhenAny(PumpAsync(client, server, drop: false), PumpAsync(server, client, drop: true));
            }
            catch (Exception e) when (e is SocketException or IOException or OperationCanceledException or ObjectDisposedException)
            {
                // A relay ends when either side goes; the other is closed with it.
            }
        }
    }

    private async Task PumpAsync(Socket from, Socket to, bool drop)
    {
        var buffer = new byte[64 * 1024];
        int read;
        while ((read = await from.ReceiveAsync(buffer, _stop.Token)) > 0)
        {
            if (drop && Volatile.Read(ref _dropTag) is { } tag && buffer.AsSpan(0, read).IndexOf(tag) >= 0
                && Interlocked.CompareExchange(ref _dropTag, null, tag) == tag)
            {
                // The reply is lost: neither side hears the rest of this conversation.
                return;
            }

            await to.SendAsync(buffer.AsMemory(0, read), _stop.Token);
        }
    }

    public ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        _stop.Dispose();
        return ValueTask.CompletedTask;
    }
}
