using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Gollamas.Bench.Micro;

/// <summary>
/// A tiny in-process Ollama stand-in on 127.0.0.1:0: any POST answers with <c>?chunks=N</c>
/// NDJSON chat lines, each flushed on its own. Line 1 goes out at once; every later line waits
/// for <see cref="LineReceived"/>, which the client signals when it has read the previous line.
/// </summary>
internal sealed class NdjsonBackend : IAsyncDisposable
{
    // Shaped like Ollama's own /api/chat lines (about 130 and 180 bytes).
    private static readonly byte[] s_tokenLine = Line(
        """{"model":"llama3.2","created_at":"2026-01-01T00:00:00.000000000Z","message":{"role":"assistant","content":" token"},"done":false}""");

    private static readonly byte[] s_doneLine = Line(
        """{"model":"llama3.2","created_at":"2026-01-01T00:00:00.000000000Z","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","total_duration":1,"eval_count":1}""");

    private readonly WebApplication _app;

    private NdjsonBackend(WebApplication app)
    {
        _app = app;
    }

    public Uri Address { get; private set; } = null!;

    /// <summary>Released by the client once per line read, except after the last.</summary>
    public SemaphoreSlim LineReceived { get; } = new(0);

    public static async Task<NdjsonBackend> StartAsync()
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(static kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var backend = new NdjsonBackend(app);
        app.Run(backend.HandleAsync);
        await app.StartAsync();
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        backend.Address = new Uri(addresses.First());
        return backend;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        LineReceived.Dispose();
    }

    private async Task HandleAsync(HttpContext context)
    {
        await context.Request.Body.CopyToAsync(Stream.Null);
        var chunks = int.Parse(context.Request.Query["chunks"].ToString(), CultureInfo.InvariantCulture);
        context.Response.ContentType = "application/x-ndjson";
        var writer = context.Response.BodyWriter;
        for (var i = 0; i < chunks; i++)
        {
            if (i > 0)
            {
                await LineReceived.WaitAsync(context.RequestAborted);
            }

            await writer.WriteAsync(i == chunks - 1 ? s_doneLine : s_tokenLine, context.RequestAborted);
        }
    }

    private static byte[] Line(string json) => Encoding.UTF8.GetBytes(json + "\n");
}
