namespace Gollamas.Tests.GoReference;

/// <summary>
/// A fact checked against Go's own standard library: reported as skipped, with the reason, when
/// no Go toolchain is on PATH. xunit 2 has no dynamic skip; the reason is fixed when tests are
/// discovered.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class GoFactAttribute : FactAttribute
{
    public GoFactAttribute()
    {
        Skip = GoFormValue.SkipReason;
    }
}
