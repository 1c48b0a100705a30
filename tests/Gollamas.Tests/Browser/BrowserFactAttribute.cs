namespace Gollamas.Tests.Browser;

/// <summary>
/// A fact run in a real browser (Debian's Chromium through its ChromeDriver): reported as skipped,
/// with the reason, when either is missing. xunit 2 has no dynamic skip; the reason is fixed when
/// tests are discovered. <c>.ci/run</c> installs both where it runs as root.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class BrowserFactAttribute : FactAttribute
{
    public BrowserFactAttribute()
    {
        Skip = HeadlessChromium.SkipReason;
    }
}
