using System.Diagnostics;
using Harness.IntegrationTests.Cli;

namespace Harness.IntegrationTests.ScaleOut;

/// <summary>
/// The Slurm this machine's commands talk to (<c>.ci/slurm.sh</c> starts a single-node one): whether it answers, and
/// its commands run as child processes.
/// </summary>
internal static class SlurmCluster
{
    private static readonly Lazy<string?> Problem = new(FindProblem);
    private static readonly char[] FieldSeparators = [' ', '\n'];
    private static readonly string[] Commands = ["sbatch", "sinfo", "squeue", "scancel", "scontrol"];

    /// <summary>Null when sbatch, squeue, scancel and scontrol are on PATH and sinfo shows a node that can take jobs; else why not.</summary>
    public static string? Unavailable => Problem.Value;

    public static async Task<HarnessProcess.Result> RunAsync(string command, params string[] args)
    {
        var start = new ProcessStartInfo(command)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        return await HarnessProcess.RunToEndAsync(start, TimeSpan.FromSeconds(60), $"{command} {string.Join(' ', args)}");
    }

    /// <summary>The job's state as <c>scontrol show job</c> gives it (PENDING, RUNNING, COMPLETED, CANCELLED, ...), or null once Slurm forgot it.</summary>
    public static async Task<string?> JobStateAsync(string jobId)
    {
        var show = await RunAsync("scontrol", "show", "job", jobId);
        if (show.ExitCode != 0)
        {
            return null;
        }

        var field = show.Output.Split(FieldSeparators, StringSplitOptions.RemoveEmptyEntries).FirstOrDefault(f => f.StartsWith("JobState=", StringComparison.Ordinal));
        return field?["JobState=".Length..];
    }

    private static string? FindProblem()
    {
        var missing = Commands.Where(c => !OnPath(c)).ToList();
        if (missing.Count > 0)
        {
            return $"Slurm's commands are not installed ({string.Join(", ", missing)} missing; .ci/slurm.sh installs and starts a single-node Slurm)";
        }

        try
        {
            var sinfo = RunAsync("sinfo", "-h", "-N", "-o", "%N %T").GetAwaiter().GetResult();
            var states = sinfo.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ').Last()).ToList();
            return sinfo.ExitCode == 0 && states.Any(s => s is "idle" or "mixed" or "allocated" or "completing")
                ? null
                : $"Slurm does not answer with a usable node (sinfo exit {sinfo.ExitCode}: {sinfo.Output.Trim()} {sinfo.Error.Trim()}); run .ci/slurm.sh";
        }
        catch (Exception e) when (e is TimeoutException or System.ComponentModel.Win32Exception)
        {
            return $"sinfo failed: {e.Message}; run .ci/slurm.sh";
        }
    }

    private static bool OnPath(string command) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Any(dir => File.Exists(Path.Combine(dir, command)));
}

/// <summary>
/// A fact that needs a Slurm that answers: skipped with the reason when there is none, except under <c>CI=true</c>, where
/// the test runs and fails (CI starts one with <c>.ci/slurm.sh</c>, so a missing Slurm there is a broken setup step).
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class RequiresSlurmFactAttribute : FactAttribute
{
    public RequiresSlurmFactAttribute()
    {
        if (!SharedModels.IsCi && SlurmCluster.Unavailable is { } problem)
        {
            Skip = $"{problem} (under CI=true this test fails instead).";
        }
    }
}
