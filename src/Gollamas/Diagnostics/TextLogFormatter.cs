using System.Buffers;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;

namespace Gollamas.Diagnostics;

/// <summary>
/// The one-line text log: the console's simple format, with every character that could break
/// the line or drive a terminal escaped. Messages carry what clients sent (path, model name,
/// Host); a CR or NEL would forge a log line, an ESC recolour or retitle the operator's
/// terminal, a bidi override reorder what they read. Escaping the rendered message, here, covers
/// every value of every message without each call site having to remember. (The JSON format
/// needs nothing: its encoder escapes all of these already.)
/// </summary>
/// <param name="simple">The console's own simple formatter, resolved once it exists.</param>
internal sealed class TextLogFormatter(Func<ConsoleFormatter> simple) : ConsoleFormatter(FormatterName)
{
    public const string FormatterName = "gollamas-text";

    // C0 controls, DEL, C1 controls (NEL among them), the Unicode line and paragraph separators,
    // and the bidi marks, embeddings, overrides and isolates.
    private static readonly SearchValues<char> s_escaped = SearchValues.Create(
        "\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\u0008\u0009\u000A\u000B\u000C\u000D\u000E\u000F"
        + "\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001A\u001B\u001C\u001D\u001E\u001F\u007F"
        + "\u0080\u0081\u0082\u0083\u0084\u0085\u0086\u0087\u0088\u0089\u008A\u008B\u008C\u008D\u008E\u008F"
        + "\u0090\u0091\u0092\u0093\u0094\u0095\u0096\u0097\u0098\u0099\u009A\u009B\u009C\u009D\u009E\u009F"
        + "\u200E\u200F\u2028\u2029\u202A\u202B\u202C\u202D\u202E\u2066\u2067\u2068\u2069");

    private ConsoleFormatter? _simple;

    public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        var message = logEntry.Formatter(logEntry.State, logEntry.Exception);
        if (logEntry.Exception is { } exception)
        {
            // Where the simple format would put it on the same line, its line breaks made spaces.
            message = (message is null ? "" : message + " ") + exception.ToString().ReplaceLineEndings(" ");
        }

        if (message is null)
        {
            return;
        }

        _simple ??= simple();
        _simple.Write(
            new LogEntry<string>(logEntry.LogLevel, logEntry.Category, logEntry.EventId, Escape(message), null, static (text, _) => text),
            scopeProvider,
            textWriter);
    }

    /// <summary>
    /// The text with each character of <see cref="s_escaped"/> written as <c>\xNN</c> (up to
    /// U+00FF) or <c>\uNNNN</c>; the same instance when there is none, the usual case.
    /// </summary>
    public static string Escape(string text)
    {
        var first = text.AsSpan().IndexOfAny(s_escaped);
        if (first < 0)
        {
            return text;
        }

        var escaped = new StringBuilder(text.Length + 16);
        escaped.Append(text, 0, first);
        for (var i = first; i < text.Length; i++)
        {
            var c = text[i];
            if (!s_escaped.Contains(c))
            {
                escaped.Append(c);
            }
            else if (c <= '\u00FF')
            {
                escaped.Append(@"\x").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture));
            }
            else
            {
                escaped.Append(@"\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
            }
        }

        return escaped.ToString();
    }
}
