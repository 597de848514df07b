using System.Diagnostics;
using System.Text;

namespace Harness.IntegrationTests.Reports;

/// <summary>
/// Debian's <c>chromium</c> run headless (<c>.ci/run</c> installs it). Found on PATH as chromium, chromium-browser or
/// google-chrome, or at <c>HARNESS_CHROMIUM</c>.
/// </summary>
internal static class HeadlessChromium
{
    public static string? Executable { get; } = Find();

    /// <summary>Runs the browser on <paramref name="page"/> with console messages logged to stderr.</summary>
    /// <param name="darkMode">Makes the page see <c>prefers-color-scheme: dark</c>.</param>
    public static async Task<Cli.HarnessProcess.Result> RunAsync(string page, bool darkMode, IEnumerable<string> arguments, TimeSpan timeout)
    {
        var profile = Directory.CreateTempSubdirectory("harness-chromium-");
        try
        {
            var start = new ProcessStartInfo(Executable ?? throw new InvalidOperationException("chromium is not installed"))
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start. A fresh profile per run keeps
            // parallel tests from sharing a profile lock. --enable-logging=stderr --v=0 prints every console message
            // as an INFO:CONSOLE line, including the browser's own (CSP violations, resources that failed).
            foreach (var argument in (string[])["--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                         "--no-first-run", "--enable-logging=stderr", "--v=0", $"--user-data-dir={profile.FullName}"])
            {
                start.ArgumentList.Add(argument);
            }

            if (darkMode)
            {
                start.ArgumentList.Add("--force-dark-mode");
            }

            foreach (var argument in arguments)
            {
                start.ArgumentList.Add(argument);
            }

            start.ArgumentList.Add(new Uri(page).AbsoluteUri);
            return await Cli.HarnessProcess.RunToEndAsync(start, timeout, "chromium");
        }
        finally
        {
            try
            {
                profile.Delete(recursive: true);
            }
            catch (IOException)
            {
                // A helper process may still hold a file for a moment; the temp folder is cleaned by the OS.
            }
        }
    }

    /// <summary>The console lines of a run: anything the page, or the browser about the page, wrote to the console.</summary>
    public static IReadOnlyList<string> ConsoleLines(string stderr) =>
        [.. stderr.Split('\n').Where(l => l.Contains(":CONSOLE", StringComparison.Ordinal) || l.Contains("Uncaught", StringComparison.Ordinal))];

    private static string? Find()
    {
        if (Environment.GetEnvironmentVariable("HARNESS_CHROMIUM") is { Length: > 0 } configured)
        {
            return configured;
        }

        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        foreach (var name in (string[])["chromium", "chromium-browser", "google-chrome"])
        {
            foreach (var dir in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
            {
                var candidate = Path.Combine(dir, name);
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        return null;
    }
}

/// <summary>
/// A fact that needs headless Chromium: skipped with a reason when it is missing, except under <c>CI=true</c>, where
/// the test runs and fails (CI installs it, so a missing browser there is a broken install step).
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class RequiresChromiumFactAttribute : FactAttribute
{
    public RequiresChromiumFactAttribute()
    {
        if (HeadlessChromium.Executable is null && !SharedModels.IsCi)
        {
            Skip = "chromium is not installed (apt-get install chromium, or set HARNESS_CHROMIUM; under CI=true this test fails instead).";
        }
    }
}
