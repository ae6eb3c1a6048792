using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace PredictionApi.Tests.Infrastructure;

/// <summary>
/// A logger provider that keeps every entry it is given (category, level, formatted message, structured
/// fields and exception), for tests that assert what the service logs, or that something never is.
/// </summary>
public sealed class LogCapture : ILoggerProvider
{
    private readonly ConcurrentQueue<Entry> _entries = new();

    public IReadOnlyList<Entry> Entries => _entries.ToArray();

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _entries);

    public void Dispose()
    {
    }

    public sealed record Entry(string Category, LogLevel Level, string Message, IReadOnlyList<KeyValuePair<string, object?>> Fields, string? Exception)
    {
        public object? this[string field] => Fields.FirstOrDefault(f => f.Key == field).Value;
    }

    private sealed class Logger(string category, ConcurrentQueue<Entry> entries) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            entries.Enqueue(new Entry(category, logLevel, formatter(state, exception),
                // Copied now: some states read the request, which is gone once it ends.
                (state as IEnumerable<KeyValuePair<string, object?>>)?.ToArray() ?? [], exception?.ToString()));
    }
}
