using System.Collections.Concurrent;
using System.Diagnostics.Tracing;
using System.Globalization;

namespace Gollamas.Bench.Micro;

/// <summary>
/// Which types a stretch of code allocates, from the runtime's GCAllocationTick event: one
/// sample about every 100 KB, naming the type whose allocation crossed the mark, so over many
/// samples each type's share of the bytes is estimated without a profiler. The listener
/// allocates too (the event objects), a small constant next to what it samples.
/// </summary>
internal sealed class AllocationSampler : EventListener
{
    private const EventKeywords GcKeyword = (EventKeywords)0x1;

    private readonly ConcurrentDictionary<string, long> _bytesByType = new(StringComparer.Ordinal);
    private volatile bool _sampling;

    /// <summary>Estimated bytes per type since <see cref="Start"/>, largest first.</summary>
    public IEnumerable<KeyValuePair<string, long>> BytesByType => _bytesByType.OrderByDescending(static p => p.Value);

    public void Start()
    {
        _bytesByType.Clear();
        _sampling = true;
    }

    public void Stop() => _sampling = false;

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        ArgumentNullException.ThrowIfNull(eventSource);
        if (eventSource.Name == "Microsoft-Windows-DotNETRuntime")
        {
            // Verbose on the GC keyword is what turns the allocation tick on.
            EnableEvents(eventSource, EventLevel.Verbose, GcKeyword);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        ArgumentNullException.ThrowIfNull(eventData);
        if (!_sampling
            || eventData.EventName?.StartsWith("GCAllocationTick", StringComparison.Ordinal) != true
            || eventData.Payload is null
            || eventData.PayloadNames is null)
        {
            return;
        }

        var type = eventData.Payload[eventData.PayloadNames.IndexOf("TypeName")] as string ?? "?";
        var amount = Convert.ToInt64(eventData.Payload[eventData.PayloadNames.IndexOf("AllocationAmount64")], CultureInfo.InvariantCulture);
        _bytesByType.AddOrUpdate(type, amount, (_, total) => total + amount);
    }
}
