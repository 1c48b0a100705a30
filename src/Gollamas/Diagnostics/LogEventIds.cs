namespace Gollamas.Diagnostics;

/// <summary>Event ids of every log message, grouped by area, never reused.</summary>
/// <remarks>
/// Each name matches its message's <c>EventName</c>, which operators see and filter on; the
/// <c>Backend*</c> ones keep the name they shipped with, though the code's word is now connection.
/// </remarks>
internal static class LogEventIds
{
    // Hosting 1xx
    public const int Listening = 100;
    public const int RouteConfigured = 101;
    public const int AliasConfigured = 102;
    public const int ShuttingDown = 103;
    public const int UnexpectedError = 105;
    public const int Access = 106;
    public const int ConnectionConfigured = 110;
    public const int Started = 119;
    public const int ConfigurationNote = 120;

    // Forwarding 2xx
    public const int Forwarded = 200;
    public const int BackendFailed = 201;
    public const int StreamBroken = 202;
    public const int ClientAborted = 203;
    public const int Routed = 204;
    public const int RouteChoice = 210;
    public const int BackendRefused = 205;
    public const int FailedOver = 206;
    public const int Busy = 207;
    public const int PooledConnectionReadable = 208;
    public const int BytesPastResponse = 209;
    public const int BodyStoreFailed = 230;
    public const int OneServerFailedOver = 240;

    // Fan-out 3xx
    public const int FanOutFailed = 300;

    // Health 4xx
    public const int BackendDown = 400;
    public const int BackendUp = 401;
    public const int BackendProbeFailed = 402;
    public const int BackendFirstProbeFailed = 403;

    // Model lifecycle 6xx
    public const int ModelLoaded = 600;
    public const int ModelPinged = 601;
    public const int ModelLoadFailed = 602;
    public const int ModelStillLoading = 603;
    public const int OpenAiIgnoresNumCtx = 604;
    public const int DefaultsConfigured = 605;
    public const int ModelLoading = 606;
    public const int ModelPinging = 607;
    public const int ModelMissing = 610;
    public const int ModelsChecked = 611;
    public const int ModelsNotChecked = 612;
    public const int ModelLoadCrashed = 619;
    public const int ModelsDiscovered = 620;
    public const int DiscoveredModelsChanged = 621;
    public const int DiscoveryFailed = 622;
    public const int DiscoveredModelIsAnAlias = 623;

    // Configuration 7xx
    public const int ConfigurationFile = 700;
    public const int SettingOverridden = 701;
    public const int ConfigReloaded = 702;
    public const int ConfigReloadFailed = 703;
    public const int ConfigProblem = 704;
    public const int ConfigNeedsRestart = 705;
    public const int ConfigWatchFailed = 706;
    public const int ConfigReloadUnexpected = 715;

    // Security 5xx
    public const int ApiKeysReloaded = 500;
    public const int ApiKeysReloadFailed = 501;
    public const int Unauthorized = 502;
    public const int ApiKeysReloadUnsettled = 503;
    public const int ApiKeysNone = 504;
    public const int ForeignHost = 505;
    public const int NotAdmin = 506;
    public const int KeyLimited = 507;

    // Admin actions 8xx
    public const int ConnectionDrained = 800;
    public const int ConnectionResumed = 801;
    public const int ConnectionProbed = 802;
    public const int ReloadRequested = 803;
}
