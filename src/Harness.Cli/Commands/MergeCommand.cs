using System.ComponentModel;
using Harness.Cli.Output;
using Harness.Cli.Running;
using Harness.Core.Runs;
using Harness.Core.Serialization;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Harness.Cli.Commands;

internal sealed class MergeSettings : CommandSettings
{
    [CommandArgument(0, "<PLAN_DIR>")]
    [Description("A plan folder written by harness plan, whose shards have run")]
    public string Plan { get; init; } = "";

    [CommandOption("--wait <SECONDS>")]
    [Description("Wait up to this long for shards that have not finished (read every 5 s). Default: 0, merge now or say which shard is missing")]
    public double WaitSeconds { get; init; }

    [CommandOption("--json")]
    [Description("No tables; print the run summary as JSON on stdout")]
    public bool Json { get; init; }

    public override ValidationResult Validate() =>
        WaitSeconds is >= 0 and <= 30 * 24 * 3600 ? ValidationResult.Success() : ValidationResult.Error("--wait is a number of seconds from 0 to 2592000");
}

/// <summary>
/// <c>harness merge</c>: checks a plan's shards and merges their stores into one store and the ordinary reports in the
/// plan folder; the merged run reads like a run on one machine (<c>harness report</c>, <c>harness report A B</c> work on it).
/// </summary>
internal sealed class MergeCommand : AsyncCommand<MergeSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, MergeSettings settings, CancellationToken cancellationToken)
    {
        var merged = await new MergeService(TimeProvider.System).MergeAsync(settings.Plan, TimeSpan.FromSeconds(settings.WaitSeconds), cancellationToken);
        var outcomes = merged.Models.Select(m => new ModelOutcome(m.ModelId, m.Status, 0, m.Failure)).ToList();
        var result = new RunResult(merged.PlanDirectory, merged.Manifest, outcomes, merged.Report, []);
        if (settings.Json)
        {
            Console.Out.WriteLine(SummaryWriter.ToJson(result));
        }
        else
        {
            var machines = merged.Merge.Machines;
            AnsiConsole.MarkupLine(Markup.Escape(
                $"merged {merged.Merge.Shards.Length} shards ({merged.Merge.Shards.Sum(s => s.Items)} items) from {machines.Length} machine{(machines.Length == 1 ? "" : "s")}: {string.Join(", ", machines.Select(m => m.Host.HostName))}"));
            SummaryWriter.WriteTables(AnsiConsole.Console, result);
        }

        return outcomes.Any(o => o.Status is ModelRunStatus.LoadFailed or ModelRunStatus.Crashed)
            ? ExitCodes.ModelFailures
            : merged.Report.HasErrors() ? ExitCodes.VerdictErrors : ExitCodes.Success;
    }
}
