using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using OpenQA.Selenium.Support.UI;

namespace Gollamas.Tests.Browser;

/// <summary>
/// Headless Chromium driven through ChromeDriver (W3C WebDriver), both from the system
/// (<c>chromium</c> and <c>chromium-driver</c> on Debian; <c>GOLLAMAS_CHROMIUM</c> and
/// <c>GOLLAMAS_CHROMEDRIVER</c> name others). Nothing is downloaded.
/// </summary>
internal sealed class HeadlessChromium : IDisposable
{
    private static readonly string? s_browser = Find("GOLLAMAS_CHROMIUM", "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome");
    private static readonly string? s_driver = Find("GOLLAMAS_CHROMEDRIVER", "/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver");

    private readonly ChromeDriver _driver;

    public HeadlessChromium(int width = 1000, int height = 900)
    {
        if (s_browser is null || s_driver is null)
        {
            throw new InvalidOperationException(SkipReason);
        }

        var service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(s_driver)!, Path.GetFileName(s_driver));
        service.HideCommandPromptWindow = true;
        service.SuppressInitialDiagnosticInformation = true;
        var options = new ChromeOptions { BinaryLocation = s_browser };
        options.AddArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--no-first-run", "--disable-extensions", $"--window-size={width},{height}");
        _driver = new ChromeDriver(service, options, TimeSpan.FromSeconds(60));
    }

    /// <summary>Why browser tests cannot run here, or null when they can.</summary>
    public static string? SkipReason => s_browser is null || s_driver is null
        ? "no Chromium and ChromeDriver on this machine (apt-get install chromium chromium-driver, as root; or set GOLLAMAS_CHROMIUM and GOLLAMAS_CHROMEDRIVER)"
        : null;

    public IWebDriver Driver => _driver;

    public void Open(Uri address) => _driver.Navigate().GoToUrl(address);

    /// <summary>Waits until <paramref name="condition"/> holds (re-checked every 100 ms), at most <paramref name="timeout"/>.</summary>
    public T WaitFor<T>(Func<IWebDriver, T> condition, TimeSpan timeout)
    {
        var wait = new WebDriverWait(_driver, timeout) { PollingInterval = TimeSpan.FromMilliseconds(100) };
        wait.IgnoreExceptionTypes(typeof(NoSuchElementException), typeof(StaleElementReferenceException));
        return wait.Until(condition);
    }

    public void Dispose()
    {
        _driver.Quit();
        _driver.Dispose();
    }

    private static string? Find(string variable, params string[] paths)
    {
        var given = Environment.GetEnvironmentVariable(variable);
        if (!string.IsNullOrEmpty(given))
        {
            return File.Exists(given) ? given : null;
        }

        return paths.FirstOrDefault(File.Exists);
    }
}
