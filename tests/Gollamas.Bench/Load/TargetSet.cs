namespace Gollamas.Bench.Load;

/// <summary>
/// The targets of one scenario, in run order: direct, nginx (when present), Gollamas; and the
/// backend processes behind all of them, whose CPU time shows whether they are the bottleneck.
/// </summary>
internal sealed record TargetSet(Target Direct, Target? Nginx, Target Gollamas, int SmallBackendPid, int StreamBackendPid)
{
    public IEnumerable<Target> InOrder()
    {
        yield return Direct;
        if (Nginx is not null)
        {
            yield return Nginx;
        }

        yield return Gollamas;
    }
}
