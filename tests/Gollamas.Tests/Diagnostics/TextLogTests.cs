using System.Collections.Concurrent;
using System.Text;
using Gollamas.Diagnostics;
using Gollamas.Tests.Fakes;
using Gollamas.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;

namespace Gollamas.Tests.Diagnostics;

/// <summary>
/// The text log never carries a raw control character from a request: a client's CR, ESC, NEL or
/// U+2028 in a model name or a path is written escaped, so it can neither forge a line nor drive
/// the operator's terminal.
/// </summary>
public sealed class TextLogTests
{
    private static readonly char[] RawControls = ['\r', '\u001b', '\u0085', '\u2028', '\u202e'];

    [Theory]
    [InlineData("plain text", "plain text")]
    [InlineData("a\r\nb", @"a\x0d\x0ab")]
    [InlineData("\u001b[31mred", @"\x1b[31mred")]
    [InlineData("tab\there", @"tab\x09here")]
    [InlineData("del\u007f", @"del\x7f")]
    [InlineData("nel\u0085 csi\u009b", @"nel\x85 csi\x9b")]
    [InlineData("ls\u2028ps\u2029", @"ls\u2028ps\u2029")]
    [InlineData("rlo\u202Egnp.exe\u2066", @"rlo\u202egnp.exe\u2066")]
    [InlineData("caf\u00e9 \u20ac", "caf\u00e9 \u20ac")]
    public void Escape_ControlsAndLineBreaksAsCodesTheRestAsIs(string text, string expected)
    {
        TextLogFormatter.Escape(text).Should().Be(expected);
    }

    [Fact]
    public async Task HostileModelNameAndPath_LoggedEscapedOnOneLineEach()
    {
        await using var gpu = await FakeOllamaServer.StartAsync("gpu");
        using var text = new TextLogCapture();
        await using var proxy = await ProxyUnderTest.StartAsync(proxies: [$"llama3.2={gpu.BaseUri}"], logProvider: text);

        // What a client may try: end the line and forge another, recolour the terminal, and the
        // Unicode line breaks and bidi override some viewers honour.
        const string body = """{"model":"llama\r\nINFO: forged\u001b[31m\u0085\u2028\u202Eend"}""";

        using var chat = await proxy.Client.PostAsync("/api/chat", new StringContent(body, Encoding.UTF8, "application/json"));
        using var path = await proxy.Client.GetAsync("/api/%0D%0AINFO:%20forged%1B[31m%C2%85%E2%80%A8");

        ((int)chat.StatusCode).Should().Be(404);
        ((int)path.StatusCode).Should().Be(404);
        var model = await text.WaitForAsync(static l => l.Contains("POST /api/chat 404", StringComparison.Ordinal));
        model.Should().Contain(@"model=llama\x0d\x0aINFO: forged\x1b[31m\x85\u2028\u202eend");
        var route = await text.WaitForAsync(static l => l.Contains("GET /api/", StringComparison.Ordinal));
        route.Should().Contain("GET /api/%0D%0AINFO:%20forged%1B%5B31m%C2%85%E2%80%A8 404", "a path is logged percent-encoded");
        text.Entries.Should().OnlyContain(static e => e.IndexOfAny(RawControls) < 0 && e.IndexOf('\n') == e.Length - 1);
    }

    /// <summary>Renders every entry through the proxy's text formatter, as the console would write it.</summary>
    private sealed class TextLogCapture : ILoggerProvider
    {
        private readonly ServiceProvider _services;
        private readonly TextLogFormatter _formatter;
        private readonly ConcurrentQueue<string> _entries = new();
        private readonly List<(Func<string, bool> Match, TaskCompletionSource<string> Found)> _waiters = [];

        public TextLogCapture()
        {
            _services = new ServiceCollection()
                .AddLogging(static logging => logging.AddSimpleConsole(static console =>
                {
                    console.SingleLine = true;
                    console.ColorBehavior = LoggerColorBehavior.Disabled;
                }))
                .BuildServiceProvider();
            var simple = _services.GetServices<ConsoleFormatter>().First(static f => f.Name == ConsoleFormatterNames.Simple);
            _formatter = new TextLogFormatter(() => simple);
        }

        /// <summary>Each entry as written, its line end included.</summary>
        public IReadOnlyList<string> Entries => [.. _entries];

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public Task<string> WaitForAsync(Func<string, bool> match)
        {
            lock (_waiters)
            {
                var found = _entries.FirstOrDefault(match);
                if (found is not null)
                {
                    return Task.FromResult(found);
                }

                var signal = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
                _waiters.Add((match, signal));
                return signal.Task.DefaultTimeout();
            }
        }

        public void Dispose() => _services.Dispose();

        private void Add(string entry)
        {
            lock (_waiters)
            {
                _entries.Enqueue(entry);
                foreach (var waiter in _waiters.Where(w => w.Match(entry)).ToList())
                {
                    waiter.Found.TrySetResult(entry);
                    _waiters.Remove(waiter);
                }
            }
        }

        private sealed class Logger(TextLogCapture owner, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                using var writer = new StringWriter();
                owner._formatter.Write(new LogEntry<TState>(logLevel, category, eventId, state, exception, formatter), null, writer);
                owner.Add(writer.ToString());
            }
        }
    }
}
