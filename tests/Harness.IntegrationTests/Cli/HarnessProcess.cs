using System.Diagnostics;
using System.Text;

namespace Harness.IntegrationTests.Cli;

/// <summary>Runs the real <c>harness</c> executable (built beside the tests) as a child process.</summary>
internal static class HarnessProcess
{
    public sealed record Result(int ExitCode, string Output, string Error);

    public static string RepositoryRoot { get; } = FindRoot();

    public static ProcessStartInfo StartInfo(string workingDirectory, params string[] args)
    {
        var apphost = Path.Combine(AppContext.BaseDirectory, OperatingSystem.IsWindows() ? "harness.exe" : "harness");
        var start = File.Exists(apphost)
            ? new ProcessStartInfo(apphost)
            : new ProcessStartInfo("dotnet") { ArgumentList = { Path.Combine(AppContext.BaseDirectory, "harness.dll") } };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.WorkingDirectory = workingDirectory;
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        // A wide, plain console so tables and messages are not wrapped mid-word in assertions.
        start.Environment["COLUMNS"] = "240";
        start.Environment["NO_COLOR"] = "1";
        return start;
    }

    public static Task<Result> RunAsync(string workingDirectory, TimeSpan timeout, params string[] args) =>
        RunToEndAsync(StartInfo(workingDirectory, args), timeout, $"harness {string.Join(' ', args)}");

    /// <summary>Runs a process with redirected output to its end, or kills it (and its children) after <paramref name="timeout"/>.</summary>
    /// <param name="what">The process in words, for the timeout message.</param>
    /// <param name="standardInput">Written to the process's redirected standard input, which is then closed.</param>
    public static async Task<Result> RunToEndAsync(ProcessStartInfo start, TimeSpan timeout, string what, string? standardInput = null)
    {
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (standardInput is not null)
        {
            await process.StandardInput.WriteAsync(standardInput);
            process.StandardInput.Close();
        }

        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{what} did not finish within {timeout}: {await error}");
        }

        return new Result(process.ExitCode, await output, await error);
    }

    /// <summary>A scratch folder with the repository's models and tasks copied in, deleted on dispose.</summary>
    public sealed class Workspace : IDisposable
    {
        public Workspace()
        {
            Root = Directory.CreateTempSubdirectory("harness-it-").FullName;
            CopyDirectory(Path.Combine(RepositoryRoot, "tasks"), Path.Combine(Root, "tasks"));
            CopyDirectory(Path.Combine(RepositoryRoot, "models"), Path.Combine(Root, "models"));
            File.Copy(Path.Combine(RepositoryRoot, "models.manifest"), Path.Combine(Root, "models.manifest"));
        }

        public string Root { get; }

        public string Results => Path.Combine(Root, "results");

        public string SingleRunDirectory() => Directory.GetDirectories(Results).Single();

        public void Dispose()
        {
            try
            {
                Directory.Delete(Root, recursive: true);
            }
            catch (IOException)
            {
                // A killed worker may still be closing a file; the temp folder is left for the OS.
            }
        }

        private static void CopyDirectory(string from, string to)
        {
            Directory.CreateDirectory(to);
            foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
            {
                var target = Path.Combine(to, Path.GetRelativePath(from, file));
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Copy(file, target);
            }
        }
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Harness.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("no Harness.sln above the test binaries");
    }
}
