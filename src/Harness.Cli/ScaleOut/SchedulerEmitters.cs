using Harness.Core.Sharding;

namespace Harness.Cli.ScaleOut;

/// <summary>The schedulers <c>harness plan --emit</c> writes job files for.</summary>
internal static class SchedulerEmitters
{
    public static IReadOnlyList<ISchedulerEmitter> All { get; } = [new SlurmJobEmitter(), new KubernetesJobEmitter()];

    public static ISchedulerEmitter? Find(string name) => All.FirstOrDefault(e => string.Equals(e.Name, name, StringComparison.Ordinal));
}

/// <summary>How a node starts this harness build: the job files run it by absolute path.</summary>
internal static class HarnessCommandLine
{
    /// <summary><c>dotnet /abs/harness.dll</c> when started through the dotnet host, else the app's own executable.</summary>
    public static string ThisBuild()
    {
        var process = Environment.ProcessPath ?? "dotnet";
        var entry = typeof(HarnessCommandLine).Assembly.Location;
        return string.Equals(Path.GetFileNameWithoutExtension(process), "dotnet", StringComparison.OrdinalIgnoreCase)
            ? $"{ShellQuote(process)} {ShellQuote(entry)}"
            : ShellQuote(process);
    }

    /// <summary>One POSIX shell word: left bare when it is only safe characters, else in single quotes.</summary>
    public static string ShellQuote(string word) =>
        word.Length > 0 && word.All(c => char.IsAsciiLetterOrDigit(c) || "/._-+=:,@%".Contains(c, StringComparison.Ordinal))
            ? word
            : "'" + word.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
