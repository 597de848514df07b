using System.Diagnostics;
using Harness.Core.Sharding;
using Harness.Tests.Models;

namespace Harness.Tests.Sharding;

public sealed class SlurmJobEmitterTests
{
    // A plan folder whose path has what a shell or sbatch could misread: spaces, both quotes, $, #.
    private const string AwkwardFolderName = "plan dir 'q' \"dq\" $HOME #x";

    private static SchedulerJobSpec Spec(string planDirectory, string harnessCommand = "dotnet /opt/harness/harness.dll") =>
        new(planDirectory, "20261207-183000-abc123", ShardCount: 3, new ShardResources(Cpus: 4, MemoryBytes: (3L << 30) / 2 + 1),
            harnessCommand, [planDirectory]);

    private static string Content(IReadOnlyList<EmittedFile> files, string relativePath) =>
        Assert.Single(files, f => f.RelativePath == relativePath).Content;

    private static IEnumerable<string> SbatchLines(string script) =>
        script.Split('\n').Where(l => l.StartsWith("#SBATCH ", StringComparison.Ordinal)).Select(l => l["#SBATCH ".Length..]);

    [Fact]
    public void The_array_asks_for_one_task_per_shard_and_the_plans_cpus_and_memory_rounded_up_to_a_MiB()
    {
        var files = new SlurmJobEmitter().Emit(Spec("/shared/plans/p1"));

        Assert.Equal(["slurm/shards.sbatch", "slurm/merge.sbatch", "slurm/submit.sh"], files.Select(f => f.RelativePath));
        Assert.Equal([false, false, true], files.Select(f => f.Executable));
        var shards = SbatchLines(Content(files, "slurm/shards.sbatch")).ToList();
        Assert.Contains("--array=0-2", shards);
        Assert.Contains("--cpus-per-task=4", shards);
        Assert.Contains("--mem=1537M", shards); // 1.5 GiB + 1 byte
        Assert.Contains("--requeue", shards);
        Assert.Contains("--open-mode=append", shards);
        Assert.Contains("--job-name=harness-20261207-183000-abc123", shards);
        Assert.Contains("--output=slurm/logs/shard_%A_%a.out", shards);
        Assert.Contains("--error=slurm/logs/shard_%A_%a.err", shards);
        Assert.Contains("--chdir=\"/shared/plans/p1\"", shards);

        var merge = SbatchLines(Content(files, "slurm/merge.sbatch")).ToList();
        Assert.DoesNotContain(merge, l => l.StartsWith("--array", StringComparison.Ordinal));
        Assert.Contains($"--cpus-per-task={SlurmJobEmitter.MergeCpus}", merge);
        Assert.Contains($"--mem={SlurmJobEmitter.MergeMemoryMiB}M", merge);
        Assert.Contains("--job-name=harness-20261207-183000-abc123-merge", merge);

        Assert.Contains("--dependency=\"afterany:$array_id\"", Content(files, "slurm/submit.sh"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1L, 1L)]
    [InlineData(1L << 20, 1L)]
    [InlineData((1L << 20) + 1, 2L)]
    [InlineData(5L << 30, 5120L)]
    public void Memory_is_whole_MiB_never_less_than_asked(long bytes, long mebibytes) =>
        Assert.Equal(mebibytes, SlurmJobEmitter.MemoryMiB(bytes));

    [Fact]
    public void One_shard_is_an_array_of_one_and_a_run_id_with_odd_characters_makes_a_plain_job_name()
    {
        var spec = Spec("/p") with { ShardCount = 1, RunId = "run 1/ä" };

        var shards = SbatchLines(Content(new SlurmJobEmitter().Emit(spec), "slurm/shards.sbatch")).ToList();

        Assert.Contains("--array=0-0", shards);
        Assert.Contains("--job-name=harness-run_1__", shards);
    }

    [Fact]
    public void A_plan_that_no_node_could_find_or_run_is_refused()
    {
        var emitter = new SlurmJobEmitter();

        Assert.Throws<ArgumentException>(() => emitter.Emit(Spec("relative/plan")));
        Assert.Throws<ArgumentException>(() => emitter.Emit(Spec("/p") with { ShardCount = 0 }));
        Assert.Throws<ArgumentException>(() => emitter.Emit(Spec("/p", harnessCommand: " ")));
        Assert.Throws<ArgumentException>(() => emitter.Emit(Spec("/p/a\nb")));
        // Slurm reads a log path as a pattern: % would be replaced, a backslash dropped.
        Assert.Throws<ArgumentException>(() => emitter.Emit(Spec("/p/100%")));
        Assert.Throws<ArgumentException>(() => emitter.Emit(Spec("/p/a\\b")));
    }

    [Fact]
    public void Sbatch_values_escape_backslashes_and_double_quotes_inside_double_quotes() =>
        Assert.Equal("\"/a b/\\\"q\\\"/\\\\x #y\"", SlurmJobEmitter.SbatchQuote("/a b/\"q\"/\\x #y"));

    [Fact]
    public async Task Bash_accepts_every_script()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        using var folder = new TempFolder();
        var files = new SlurmJobEmitter().Emit(Spec(Path.Combine(folder.Path, AwkwardFolderName)));
        foreach (var file in files)
        {
            var path = folder.Write(Path.GetFileName(file.RelativePath), file.Content);

            var (exit, _, errors) = await Bash(["-n", path], folder.Path, new Dictionary<string, string?>());

            Assert.True(exit == 0, $"bash -n {file.RelativePath}: {errors}");
        }
    }

    [Fact]
    public async Task A_task_runs_the_default_harness_on_its_shard_of_the_plan_even_with_quotes_and_spaces_in_both()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        using var folder = new TempFolder();
        var plan = Path.Combine(folder.Path, AwkwardFolderName);
        Directory.CreateDirectory(plan);
        // The default harness command is a shell command line with a quoted argument of its own.
        var files = new SlurmJobEmitter().Emit(Spec(plan, harnessCommand: "printf '[%s]\\n' 'first word'"));
        var script = folder.Write("shards.sbatch", Content(files, "slurm/shards.sbatch"));

        var (exit, output, errors) = await Bash([script], folder.Path, new() { ["SLURM_ARRAY_TASK_ID"] = "1", ["HARNESS"] = null });

        Assert.True(exit == 0, errors);
        Assert.Equal(["[first word]", "[run]", "[--plan]", $"[{plan}]", "[--shard]", "[1]"], Lines(output));
    }

    [Fact]
    public async Task HARNESS_from_the_environment_replaces_the_command_and_the_merge_gets_the_plan_folder()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        using var folder = new TempFolder();
        var plan = Path.Combine(folder.Path, AwkwardFolderName);
        var files = new SlurmJobEmitter().Emit(Spec(plan));
        var script = folder.Write("merge.sbatch", Content(files, "slurm/merge.sbatch"));

        var (exit, output, errors) = await Bash([script], folder.Path, new() { ["HARNESS"] = "printf '<%s>\\n'" });

        Assert.True(exit == 0, errors);
        Assert.Equal(["<merge>", $"<{plan}>"], Lines(output));
    }

    [Fact]
    public async Task A_task_outside_an_array_stops_with_a_message_instead_of_running_shard_nothing()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        using var folder = new TempFolder();
        var script = folder.Write("shards.sbatch", Content(new SlurmJobEmitter().Emit(Spec("/p", "true")), "slurm/shards.sbatch"));

        var (exit, output, errors) = await Bash([script], folder.Path, new() { ["SLURM_ARRAY_TASK_ID"] = null });

        Assert.NotEqual(0, exit);
        Assert.Contains("job array", errors, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Submit_queues_the_array_from_the_plan_folder_then_the_merge_after_any_end_of_it_and_prints_both_ids()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        using var folder = new TempFolder();
        var plan = Path.Combine(folder.Path, AwkwardFolderName);
        Directory.CreateDirectory(plan);
        var files = new SlurmJobEmitter().Emit(Spec(plan));
        var submit = folder.Write("submit.sh", Content(files, "slurm/submit.sh"));
        // A stand-in sbatch that records where it ran and with what, and answers as --parsable does on a multi-cluster setup.
        var bin = Path.Combine(folder.Path, "bin");
        var calls = Path.Combine(folder.Path, "calls");
        folder.Write("bin/sbatch", $$"""
            #!/usr/bin/env bash
            { pwd; printf '%s\n' "$@"; echo --; } >> '{{calls}}'
            n=$(grep -c -- '^--$' '{{calls}}')
            echo "$((100 + n));cluster"
            """);
        File.SetUnixFileMode(Path.Combine(bin, "sbatch"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        var (exit, output, errors) = await Bash([submit, "--partition=gpu"], folder.Path,
            new() { ["PATH"] = bin + ":" + Environment.GetEnvironmentVariable("PATH") });

        Assert.True(exit == 0, errors);
        Assert.Equal(["101", "102"], Lines(output));
        Assert.True(Directory.Exists(Path.Combine(plan, "slurm", "logs")));
        Assert.Equal(
            [plan, "--parsable", "--partition=gpu", "slurm/shards.sbatch", "--",
             plan, "--parsable", "--dependency=afterany:101", "--partition=gpu", "slurm/merge.sbatch", "--"],
            File.ReadAllLines(calls));
    }

    private static string[] Lines(string output) => output.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    private static async Task<(int Exit, string Output, string Errors)> Bash(IReadOnlyList<string> arguments, string workingDirectory, Dictionary<string, string?> environment)
    {
        var start = new ProcessStartInfo("bash")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment)
        {
            if (value is null)
            {
                start.Environment.Remove(name);
            }
            else
            {
                start.Environment[name] = value;
            }
        }

        using var process = Process.Start(start)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }
}
