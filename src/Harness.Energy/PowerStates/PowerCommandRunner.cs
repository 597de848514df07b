using System.Diagnostics;

namespace Harness.Energy.PowerStates;

/// <summary>Runs a short OS command (pmset, powercfg) for its text; the seam that lets the probes be tested with recorded output.</summary>
internal interface IPowerCommandRunner
{
    /// <summary>The command's standard output, or null when it could not run, failed or took too long. Never throws.</summary>
    string? TryRun(string fileName, IReadOnlyList<string> arguments);
}

internal sealed class ProcessPowerCommandRunner(TimeSpan timeout) : IPowerCommandRunner
{
    public string? TryRun(string fileName, IReadOnlyList<string> arguments)
    {
        try
        {
            var info = new ProcessStartInfo(fileName)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var argument in arguments)
            {
                info.ArgumentList.Add(argument);
            }

            using var process = Process.Start(info);
            if (process is null)
            {
                return null;
            }

            // Both pipes are drained concurrently so that a chatty stderr cannot block the child.
            var output = process.StandardOutput.ReadToEndAsync();
            _ = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(timeout))
            {
                process.Kill();
                return null;
            }

            return process.ExitCode == 0 ? output.GetAwaiter().GetResult() : null;
        }
        catch (Exception)
        {
            // A probe never throws: a command that is missing or refused is an unknown fact.
            return null;
        }
    }
}
