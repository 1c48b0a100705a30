using System.Buffers;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Gollamas.Simulator.Workload;

/// <summary>
/// Runs a workload against one address (a proxy, or a server) as real clients would: each user
/// in turn sends a streaming chat (or generation) request, reads the answer as it comes, keeps
/// the answer in the conversation's history, thinks, and sends the next turn with the whole
/// history again. Time is the fleet's clock.
/// </summary>
public static class WorkloadRunner
{
    public static async Task<WorkloadResult> RunAsync(Uri target, WorkloadOptions options, SimClock clock, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(clock);
        var plan = new WorkloadPlan(options);
        var origin = clock.Now;
        using var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = int.MaxValue,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(10),
            ResponseDrainTimeout = TimeSpan.Zero,
            UseProxy = false,
        };
        using var client = new HttpClient(handler) { BaseAddress = target, Timeout = Timeout.InfiniteTimeSpan };
        using var cut = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var drainEnd = clock.DelayUntilAsync(origin + options.Duration + options.Drain, cancellationToken)
            .ContinueWith(
                _ =>
                {
                    try
                    {
                        cut.Cancel();
                    }
                    catch (ObjectDisposedException)
                    {
                        // The run ended before its drain time.
                    }
                },
                CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        var context = new RunContext(client, clock, origin, options, cut.Token);
        var users = Enumerable.Range(0, options.Users).Select(u => UserAsync(u, plan, context)).ToArray();
        var records = (await Task.WhenAll(users).ConfigureAwait(false)).SelectMany(r => r).OrderBy(r => r.Sent).ToArray();
        cut.Cancel();
        cancellationToken.ThrowIfCancellationRequested();
        return new WorkloadResult(options, plan.Popularity, records);
    }

    private static async Task<List<RequestRecord>> UserAsync(int user, WorkloadPlan plan, RunContext context)
    {
        var records = new List<RequestRecord>();
        var random = plan.ForUser(user);
        var options = context.Options;
        try
        {
            await context.Clock.DelayUntilAsync(context.Origin + (options.StartSpread * random.NextDouble()), context.Cut).ConfigureAwait(false);
            while (context.Elapsed < options.Duration)
            {
                var session = plan.NextSession(random);
                var history = new List<(string Role, string Content)>();
                if (session.System is not null)
                {
                    history.Add(("system", session.System));
                }

                var words = session.System?.Split(' ').Length ?? 0;
                foreach (var turn in session.Turns)
                {
                    if (context.Elapsed >= options.Duration)
                    {
                        break;
                    }

                    history.Add(("user", turn.Text));
                    var (record, answer) = await SendAsync(user, session, history, turn, context).ConfigureAwait(false);
                    records.Add(record);
                    if (!record.Completed)
                    {
                        break;
                    }

                    history.Add(("assistant", answer));
                    words += turn.Text.Split(' ').Length + record.Tokens;
                    if (words > options.MaxHistoryWords)
                    {
                        break;
                    }

                    await context.Clock.DelayUntilAsync(context.Clock.Now + turn.ThinkAfter, context.Cut).ConfigureAwait(false);
                }

                await context.Clock.DelayUntilAsync(context.Clock.Now + session.GapAfter, context.Cut).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (context.Cut.IsCancellationRequested)
        {
            // The drain time is over.
        }

        return records;
    }

    private static async Task<(RequestRecord Record, string Answer)> SendAsync(int user, Session session, List<(string Role, string Content)> history, Turn turn, RunContext context)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, session.IsChat ? "api/chat" : "api/generate")
        {
            Content = new ByteArrayContent(Body(session, history, turn)) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } },
        };
        var sent = context.Elapsed;
        var record = new RequestRecord { User = user, Model = session.Model, Chat = session.IsChat, Sent = sent };
        var answer = new StringBuilder();
        TimeSpan? first = null;
        var tokens = 0;
        var inTime = 0;
        try
        {
            using var response = await context.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, context.Cut).ConfigureAwait(false);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                return (record with { Status = (int)response.StatusCode, Error = $"the answer's status was {(int)response.StatusCode}" }, string.Empty);
            }

            using var stream = await response.Content.ReadAsStreamAsync(context.Cut).ConfigureAwait(false);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            while (await reader.ReadLineAsync(context.Cut).ConfigureAwait(false) is { } line)
            {
                var now = context.Elapsed;
                using var chunk = JsonDocument.Parse(line);
                var root = chunk.RootElement;
                if (root.TryGetProperty("error", out _))
                {
                    return (record with { Status = 200, Error = "the stream ended with an error line", FirstToken = first, Tokens = tokens, TokensInTime = inTime }, string.Empty);
                }

                var text = session.IsChat
                    ? root.TryGetProperty("message", out var message) && message.TryGetProperty("content", out var content) ? content.GetString() : null
                    : root.TryGetProperty("response", out var response2) ? response2.GetString() : null;
                if (!string.IsNullOrEmpty(text))
                {
                    first ??= now;
                    answer.Append(text);
                    var count = text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;
                    tokens += count;
                    if (now <= context.Options.Duration)
                    {
                        inTime += count;
                    }
                }

                if (root.TryGetProperty("done", out var done) && done.ValueKind == JsonValueKind.True)
                {
                    return (record with
                    {
                        Status = 200,
                        FirstToken = first,
                        Done = now,
                        Tokens = tokens,
                        TokensInTime = inTime,
                        PromptEvalCount = root.TryGetProperty("prompt_eval_count", out var p) ? p.GetInt32() : 0,
                        LoadDuration = root.TryGetProperty("load_duration", out var l) ? TimeSpan.FromTicks(l.GetInt64() / 100) : TimeSpan.Zero,
                    }, answer.ToString());
                }
            }

            return (record with { Status = 200, Error = "the stream ended without its final chunk", FirstToken = first, Tokens = tokens, TokensInTime = inTime }, string.Empty);
        }
        catch (OperationCanceledException) when (context.Cut.IsCancellationRequested)
        {
            return (record with { Cut = true, Error = "cut at the end of the drain time", FirstToken = first, Tokens = tokens, TokensInTime = inTime }, string.Empty);
        }
        catch (HttpRequestException)
        {
            return (record with { Error = "the connection failed", FirstToken = first, Tokens = tokens, TokensInTime = inTime }, string.Empty);
        }
        catch (IOException)
        {
            return (record with { Error = "the stream broke", FirstToken = first, Tokens = tokens, TokensInTime = inTime }, string.Empty);
        }
        catch (JsonException)
        {
            return (record with { Error = "a chunk was not JSON", FirstToken = first, Tokens = tokens, TokensInTime = inTime }, string.Empty);
        }
    }

    private static byte[] Body(Session session, List<(string Role, string Content)> history, Turn turn)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("model", session.Model);
            if (session.IsChat)
            {
                w.WriteStartArray("messages");
                foreach (var (role, content) in history)
                {
                    w.WriteStartObject();
                    w.WriteString("role", role);
                    w.WriteString("content", content);
                    w.WriteEndObject();
                }

                w.WriteEndArray();
            }
            else
            {
                w.WriteString("prompt", turn.Text);
            }

            w.WriteBoolean("stream", true);
            w.WriteStartObject("options");
            w.WriteNumber("num_predict", turn.NumPredict);
            w.WriteEndObject();
            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private sealed record RunContext(HttpClient Client, SimClock Clock, TimeSpan Origin, WorkloadOptions Options, CancellationToken Cut)
    {
        public TimeSpan Elapsed => Clock.Now - Origin;
    }
}
