namespace Gollamas.Hosting;

/// <summary>Named process exit codes.</summary>
internal static class ExitCodes
{
    public const int Success = 0;
    public const int Unexpected = 1;
    public const int ConfigError = 2;
    public const int BindFailed = 3;
}
