namespace Gollamas.Tests.Published;

/// <summary>
/// A fact about the emulated arm64 binary: reported as skipped, with the reason, when the
/// binary or qemu is not there. xunit 2 has no dynamic skip; the reason is fixed when tests are
/// discovered, from the same environment the test would read.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class Arm64FactAttribute : FactAttribute
{
    public Arm64FactAttribute()
    {
        Skip = EmulatedArm64Binary.SkipReason;
    }
}
