using System.Net;

namespace Gollamas.Bench.Load;

/// <summary>
/// Where a scenario sends its load: straight to the backends ("direct"), or through a proxy
/// whose process tree is measured. Direct has two ports: small requests and streams are served
/// by different backends (see <see cref="FastBackend"/>); a proxy routes both from one port.
/// </summary>
internal sealed record Target(string Name, IPEndPoint Small, IPEndPoint Stream, ChildProcess? Proxy)
{
    public string SmallUrl(string path) => $"http://{Small}{path}";

    public string StreamUrl(string path) => $"http://{Stream}{path}";
}
