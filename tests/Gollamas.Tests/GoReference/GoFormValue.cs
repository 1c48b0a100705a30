using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Gollamas.Tests.Infrastructure;

namespace Gollamas.Tests.GoReference;

/// <summary>
/// Go's reading of transcription forms, as Ollama's TranscriptionMiddleware does it
/// (ParseMultipartForm(25 &lt;&lt; 20), then FormValue("model")): the program in
/// GoReference/formvalue, built once per machine and Go toolchain (cached under the temp
/// directory, keyed by its source and the toolchain), run once per corpus.
/// </summary>
internal static class GoFormValue
{
    private static readonly Lazy<string?> s_go = new(FindGo);
    private static readonly Lazy<string> s_binary = new(() => Build("formvalue"));

    /// <summary>Null when a Go toolchain is on PATH; otherwise why the Go reference tests cannot run.</summary>
    public static string? SkipReason => s_go.Value is null
        ? "Go reference not run: no 'go' on PATH (Debian: apt-get install golang-go; .ci/run installs it)"
        : null;

    /// <summary>
    /// Go's answer for each case, in order: <c>ok</c> and the model's bytes in hex (empty when the
    /// form has no model value), or <c>error</c> and Go's message.
    /// </summary>
    public static async Task<IReadOnlyList<string>> RunAsync(IReadOnlyList<(string[] ContentTypes, byte[] Body)> cases)
    {
        var input = new MemoryStream();
        foreach (var (contentTypes, body) in cases)
        {
            Write(input, Encoding.ASCII.GetBytes($"{contentTypes.Length}\n"));
            foreach (var contentType in contentTypes)
            {
                Block(input, Encoding.Latin1.GetBytes(contentType));
            }

            Block(input, body);
        }

        return await RunAsync(s_binary.Value, input.GetBuffer().AsMemory(0, (int)input.Length), cases.Count);
    }

    /// <summary>Runs a built Go reference program on <paramref name="input"/>; returns its output lines, one per case.</summary>
    internal static async Task<IReadOnlyList<string>> RunAsync(string binary, ReadOnlyMemory<byte> input, int cases)
    {
        using var process = Start(binary, workingDirectory: null);
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.StandardInput.BaseStream.WriteAsync(input).AsTask().DefaultTimeout(TimeSpan.FromMinutes(1));
        process.StandardInput.Close();
        await process.WaitForExitAsync().DefaultTimeout(TimeSpan.FromMinutes(1));
        process.ExitCode.Should().Be(0, await errors);
        var lines = (await output).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines.Should().HaveCount(cases);
        return lines;
    }

    private static void Block(MemoryStream input, byte[] bytes)
    {
        Write(input, Encoding.ASCII.GetBytes($"{bytes.Length}\n"));
        Write(input, bytes);
    }

    private static void Write(MemoryStream input, byte[] bytes) => input.Write(bytes, 0, bytes.Length);

    private static string? FindGo()
    {
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(directory, "go");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>Builds the program in GoReference/<paramref name="program"/> (once per source and toolchain); returns the binary's path.</summary>
    internal static string Build(string program)
    {
        var source = Path.Combine(AppContext.BaseDirectory, "GoReference", program, "main.go");
        var go = s_go.Value ?? throw new InvalidOperationException(SkipReason);
        var key = SHA256.HashData([.. File.ReadAllBytes(source), .. Encoding.UTF8.GetBytes($"{go}|{File.GetLastWriteTimeUtc(go).Ticks}")]);
        var directory = Path.Combine(Path.GetTempPath(), "gollamas-go-reference");
        var binary = Path.Combine(directory, program + "-" + Convert.ToHexString(key, 0, 8).ToLowerInvariant());
        if (File.Exists(binary))
        {
            return binary;
        }

        // Standard library only: no module download, no toolchain switch, no cgo, caches of its own.
        Directory.CreateDirectory(directory);
        var building = $"{binary}.{Environment.ProcessId}";
        var arguments = new[] { "build", "-o", building, source };
        using (var process = Start(go, directory, arguments))
        {
            var output = process.StandardOutput.ReadToEndAsync();
            var errors = process.StandardError.ReadToEndAsync();
            process.StandardInput.Close();
            if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
            {
                process.Kill();
                throw new TimeoutException("go build of the Go reference took more than 5 minutes");
            }

            process.ExitCode.Should().Be(0, $"go build must succeed: {output.Result}{errors.Result}");
        }

        File.Move(building, binary, overwrite: true);
        return binary;
    }

    private static Process Start(string fileName, string? workingDirectory, params string[] arguments)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        if (workingDirectory is not null)
        {
            info.WorkingDirectory = workingDirectory;
            info.Environment["GOCACHE"] = Path.Combine(workingDirectory, "cache");
            info.Environment["GOPATH"] = Path.Combine(workingDirectory, "gopath");
            info.Environment["GOTOOLCHAIN"] = "local";
            info.Environment["GOPROXY"] = "off";
            info.Environment["GOFLAGS"] = string.Empty;
            info.Environment["GO111MODULE"] = string.Empty;
            info.Environment["GOTELEMETRY"] = "off";
            info.Environment["CGO_ENABLED"] = "0";
        }

        return Process.Start(info) ?? throw new InvalidOperationException($"{fileName} did not start");
    }
}
