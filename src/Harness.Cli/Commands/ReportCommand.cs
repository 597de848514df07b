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
    [Description("A run folder, e.g. results/20261129-010203-abc123")]
    public string Run { get; init; } = "";

    [CommandOption("--json")]
    public bool Json { get; init; }
}

/// <summary>Rebuilds the reports from run.json and the store; no model is loaded.</summary>
internal sealed class ReportCommand : AsyncCommand<ReportSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, ReportSettings settings, CancellationToken cancellationToken)
    {
        var report = await ReportService.RebuildAsync(settings.Run, cancellationToken);
        if (settings.Json)
        {
            Console.Out.WriteLine(System.Text.Json.JsonSerializer.Serialize(report, HarnessJson.IndentedOptions));
            return ExitCodes.Success;
        }

        var manifest = await RunManifestFile.ReadAsync(Path.GetFullPath(settings.Run), cancellationToken);
        SummaryWriter.WriteTables(AnsiConsole.Console, new RunResult(Path.GetFullPath(settings.Run), manifest, [], report, []));
        return ExitCodes.Success;
    }
}
