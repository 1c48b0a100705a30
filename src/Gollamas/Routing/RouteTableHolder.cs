namespace Gollamas.Routing;

/// <summary>
/// Holds the current <see cref="RouteTable"/>. Readers take one snapshot per request; a writer
/// replaces it atomically, so a request never sees half of two configurations.
/// </summary>
internal sealed class RouteTableHolder(RouteTable initial)
{
    private RouteTable _current = initial;

    public RouteTable Current => Volatile.Read(ref _current);

    public void Swap(RouteTable next) => Volatile.Write(ref _current, next);
}
