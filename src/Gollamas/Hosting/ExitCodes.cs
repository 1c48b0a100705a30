namespace Gollamas.Hosting;

/// <summary>Named process exit codes.</summary>
internal static class ExitCodes
{
    public const int Success = 0;
    public const int Unexpected = 1;

    /// <summary>
    /// <c>gollamas check</c> found a server down or failing, or a configured model missing. The
    /// same value as <see cref="Unexpected"/>: any failure of a check is 1, as for most tools;
    /// only a configuration error (2) is told apart.
    /// </summary>
    public const int CheckFailed = 1;

    public const int ConfigError = 2;
    public const int BindFailed = 3;
}
