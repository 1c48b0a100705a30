using System.Text;
using Microsoft.AspNetCore.Http;

namespace Gollamas.Tests.Fakes;

/// <summary>
/// A scripted streaming response for <see cref="FakeOllamaServer.MapScript"/>: chunks written and flushed one
/// at a time, each optionally held back until the test opens its <see cref="StreamGate"/>. Chunks are written
/// byte for byte (no framing is added); <see cref="NdjsonLine"/> and <see cref="SseData"/> build framed text.
/// A script serves one request; a second request to it is answered 500.
/// </summary>
/// <example>
/// <code>
/// var script = new StreamScript();
/// script.Add(StreamScript.NdjsonLine("""{"message":{"content":"a"},"done":false}"""));
/// script.AddGated(StreamScript.NdjsonLine("""{"done":true}"""), out var gate);
/// fake.MapScript("POST", "/api/chat", script);
/// // ... read the first line at the client, then:
/// gate.Open();
/// await script.Completed.DefaultTimeout();
/// </code>
/// </example>
public sealed class StreamScript
{
    private readonly List<Step> _steps = [];
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _completed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _aborted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _abortAfter = -1;
    private StreamGate? _abortGate;
    private int _used;
    private volatile bool _selfAborting;

    public StreamScript(string contentType = "application/x-ndjson", int statusCode = StatusCodes.Status200OK)
    {
        ContentType = contentType;
        StatusCode = statusCode;
    }

    public string ContentType { get; }

    public int StatusCode { get; }

    /// <summary>Extra response headers, set before the response starts.</summary>
    public IDictionary<string, string> Headers { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

    public int Count => _steps.Count;

    /// <summary>Completes once the request reached the script and the response headers were flushed.</summary>
    public Task Started => _started.Task;

    /// <summary>
    /// Completes when every chunk was written and flushed (or, with <see cref="AbortAfter(int)"/>, when the
    /// connection was cut as scripted). Faults if the client disconnected or the server stopped first.
    /// </summary>
    public Task Completed => _completed.Task;

    /// <summary>
    /// Completes when the client disconnected (<see cref="HttpContext.RequestAborted"/>) while the script was
    /// still running. A scripted <see cref="AbortAfter(int)"/> or a stopping server does not count.
    /// </summary>
    public Task Aborted => _aborted.Task;

    /// <summary>Framing helper: one NDJSON record, <paramref name="json"/> followed by <c>\n</c>.</summary>
    public static string NdjsonLine(string json) => json + "\n";

    /// <summary>Framing helper: one SSE event, <c>data: </c><paramref name="data"/><c>\n\n</c>.</summary>
    public static string SseData(string data) => "data: " + data + "\n\n";

    public void Add(string chunk) => Add(Encoding.UTF8.GetBytes(chunk));

    public void Add(byte[] chunk) => _steps.Add(new Step(chunk, Gate: null));

    /// <summary>Adds a chunk that is written only after <paramref name="gate"/> is opened (and every earlier chunk was written).</summary>
    public void AddGated(string chunk, out StreamGate gate) => AddGated(Encoding.UTF8.GetBytes(chunk), out gate);

    public void AddGated(byte[] chunk, out StreamGate gate)
    {
        gate = new StreamGate();
        _steps.Add(new Step(chunk, gate));
    }

    /// <summary>Completes when chunk <paramref name="index"/> has been written and flushed; cancelled if the script ended without writing it.</summary>
    public Task WhenWritten(int index) => _steps[index].Written.Task;

    /// <summary>Cuts the connection (<see cref="HttpContext.Abort"/>) right after chunk <paramref name="index"/> is flushed.</summary>
    /// <remarks>
    /// Kestrel's abort resets the connection (the client sees "connection reset by peer") and output still queued
    /// for the socket, even the response head, can be lost. When a test must be sure the client saw chunk
    /// <paramref name="index"/> first, use the gated overload and open the gate after reading it at the client.
    /// </remarks>
    public void AbortAfter(int index) => _abortAfter = index;

    /// <summary>Like <see cref="AbortAfter(int)"/>, but the cut waits for <paramref name="gate"/> to open.</summary>
    public void AbortAfter(int index, out StreamGate gate)
    {
        gate = new StreamGate();
        _abortAfter = index;
        _abortGate = gate;
    }

    internal async Task RunAsync(HttpContext context, CancellationToken serverStopping)
    {
        if (Interlocked.Exchange(ref _used, 1) != 0)
        {
            context.Response.StatusCode = StatusCodes.Status500InternalServerError;
            await context.Response.WriteAsync("StreamScript already served a request", serverStopping);
            return;
        }

        using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, serverStopping);
        var cancellationToken = linked.Token;
        var registration = context.RequestAborted.Register(() =>
        {
            if (!_selfAborting && !serverStopping.IsCancellationRequested)
            {
                _aborted.TrySetResult();
            }
        });
        try
        {
            var response = context.Response;
            response.StatusCode = StatusCode;
            response.ContentType = ContentType;
            foreach (var (name, value) in Headers)
            {
                response.Headers[name] = value;
            }

            await response.StartAsync(cancellationToken);
            await response.Body.FlushAsync(cancellationToken);
            _started.TrySetResult();

            for (var i = 0; i < _steps.Count; i++)
            {
                var step = _steps[i];
                if (step.Gate is not null)
                {
                    await step.Gate.WhenOpen.WaitAsync(cancellationToken);
                }

                await response.Body.WriteAsync(step.Chunk, cancellationToken);
                await response.Body.FlushAsync(cancellationToken);
                step.Written.TrySetResult();

                if (i == _abortAfter)
                {
                    if (_abortGate is not null)
                    {
                        await _abortGate.WhenOpen.WaitAsync(cancellationToken);
                    }

                    _selfAborting = true;
                    context.Abort();
                    _completed.TrySetResult();
                    return;
                }
            }

            _completed.TrySetResult();
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException)
        {
            // The client went away or the server is stopping: nothing left to write to.
            var reason = serverStopping.IsCancellationRequested
                ? "the fake server stopped"
                : "the client disconnected";
            _completed.TrySetException(new InvalidOperationException($"The stream script did not finish: {reason}.", ex));
        }
        finally
        {
            await registration.DisposeAsync();
            _started.TrySetException(new InvalidOperationException("The stream script never sent its response headers."));
            foreach (var step in _steps)
            {
                step.Written.TrySetCanceled(CancellationToken.None);
            }
        }
    }

    private sealed record Step(byte[] Chunk, StreamGate? Gate)
    {
        public TaskCompletionSource Written { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
