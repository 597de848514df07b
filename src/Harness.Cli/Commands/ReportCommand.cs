using System.ComponentModel;
using Harness.Cli.Output;
using Harness.Cli.Running;
using Harness.Core.Serialization;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Harness.Cli.Commands;

internal sealed class ReportSettings : CommandSettings
{
    [CommandArgument(0, "<RUN_DIR>")]
    [Description("A run folder, e.g. results/20261129-010203-abc123. With a second run folder: run A of the diff")]
    public string Run { get; init; } = "";

    [CommandArgument(1, "[RUN_B]")]
    [Description("A second run folder: compare the two runs item by item and write diff-<A>-vs-<B>.md/.json")]
    public string? RunB { get; init; }

    [CommandOption("--output <DIR>")]
    [Description("With two runs: the folder for the diff files (default: run B's folder)")]
    public string? Output { get; init; }

    [CommandOption("--json")]
    public bool Json { get; init; }

    public override ValidationResult Validate() =>
        Output is not null && RunB is null
            ? ValidationResult.Error("--output applies to a diff of two runs (harness report <runA> <runB> --output <dir>)")
            : ValidationResult.Success();
}

/// <summary>
/// Rebuilds the reports of one run, or compares two runs item by item, from run.json and the stores; no model is loaded.
/// </summary>
internal sealed class ReportCommand : AsyncCommand<ReportSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, ReportSettings settings, CancellationToken cancellationToken)
    {
        if (settings.RunB is { } runB)
        {
            var result = await RunDiffService.WriteAsync(settings.Run, runB, settings.Output, cancellationToken);
            if (settings.Json)
            {
                Console.Out.WriteLine(System.Text.Json.JsonSerializer.Serialize(result.Diff, HarnessJson.IndentedOptions));
            }
            else
            {
                RunDiffSummaryWriter.Write(AnsiConsole.Console, result);
            }

            return ExitCodes.Success;
        }

        var report = await ReportService.RebuildAsync(settings.Run, cancellationToken);
        // The rebuilt reports say what the run said: a (model, suite) in error exits 4 here too, so a script that
        // rebuilds reports cannot take an unevaluated suite for an answer.
        var exitCode = report.HasErrors() ? ExitCodes.VerdictErrors : ExitCodes.Success;
        if (settings.Json)
        {
            Console.Out.WriteLine(System.Text.Json.JsonSerializer.Serialize(report, HarnessJson.IndentedOptions));
            return exitCode;
        }

        var manifest = await RunManifestFile.ReadAsync(Path.GetFullPath(settings.Run), cancellationToken);
        SummaryWriter.WriteTables(AnsiConsole.Console, new RunResult(Path.GetFullPath(settings.Run), manifest, [], report, []));
        if (report.Comparison is { } comparison)
        {
            SummaryWriter.WriteComparison(AnsiConsole.Console, comparison);
        }

        return exitCode;
    }
}
