namespace Gollamas.Bench.Load;

/// <summary>The targets of one scenario, in run order: direct, nginx (when present), Gollamas.</summary>
internal sealed record TargetSet(Target Direct, Target? Nginx, Target Gollamas)
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
