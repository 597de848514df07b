using System.ComponentModel;
using Harness.Cli.Output;
using Harness.Cli.Running;
using Harness.Cli.Workers;
using Harness.Core.Comparison;
using Harness.Core.Downloads;
using Harness.Core.Runs;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Harness.Cli.Commands;

internal sealed class CompareSettings : PlannedRunSettings
{
    [CommandOption("--base <ID>")]
    [Description("The reference model (e.g. the F16 or F32 original)")]
    public string? Base { get; init; }

    [CommandOption("--candidates <IDS>")]
    [Description("Comma-separated model ids to compare with the base (repeatable)")]
    public string[] Candidates { get; init; } = [];

    [CommandOption("--reference <FILE>")]
    [Description("Text for the perplexity ratio, documents separated by blank lines. Default: <tasks>/reference.txt")]
    public string? Reference { get; init; }

    [CommandOption("--top-k <N>")]
    [Description("Base tokens per position that KL divergence is measured over (the rest is one bin). Default: 64")]
    public int TopK { get; init; } = 64;

    [CommandOption("--json")]
    [Description("No progress display; print a machine-readable summary (outcomes, drift and the report with its comparison) on stdout")]
    public bool Json { get; init; }

    public IReadOnlyList<string> CandidateIds =>
        [.. Candidates.SelectMany(c => c.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).Distinct(StringComparer.Ordinal)];

    public override ValidationResult Validate()
    {
        if (Resume is not null)
        {
            return ValidateResume(Base is not null || Candidates.Length > 0 || Reference is not null, "--base, --candidates or --reference");
        }

        if (Base is null || CandidateIds.Count == 0)
        {
            return ValidationResult.Error("compare needs --base <ID> and --candidates <ID,...>");
        }

        if (CandidateIds.Contains(Base))
        {
            return ValidationResult.Error($"'{Base}' is the base; it cannot also be a candidate");
        }

        return TopK is < 1 or > 4096
            ? ValidationResult.Error("--top-k must be between 1 and 4096")
            : ValidationResult.Success();
    }
}

/// <summary>
/// A run of the base and its candidates on identical items, followed by the drift pass, with the comparison and
/// the ladder in report.md and report.json. The run folder is an ordinary run: <c>harness report</c> rebuilds it.
/// </summary>
internal sealed class CompareCommand : AsyncCommand<CompareSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, CompareSettings settings, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        using var scorers = new Scoring.HarnessScorers();
        var service = HarnessBackends.CreateRunService(http, scorers);
        var reference = settings.Reference ?? Path.Combine(settings.Tasks, ReferenceText.DefaultFileName);

        var result = await RunCommand.RunWithDisplayAsync(settings.Json, (observer, downloads) => settings.Resume is { } resume
            ? service.ResumeAsync(resume, observer, downloads, cancellationToken)
            : service.StartAsync(
                new NewRunOptions(settings.Manifest, settings.Tasks, [.. settings.Suites], [], settings.Results,
                    new ComparisonOptions(settings.Base!, [.. settings.CandidateIds], settings.TopK, reference), settings.ToEnergySettings(),
                    settings.ToContentionThresholds(), Timeouts: settings.ToWatchdogOverrides()),
                observer, downloads, cancellationToken));

        if (settings.Json)
        {
            Console.Out.WriteLine(SummaryWriter.ToJson(result));
        }
        else
        {
            WriteSummary(result);
        }

        return result.Outcomes.Any(o => o.Status is ModelRunStatus.LoadFailed or ModelRunStatus.Crashed) || result.Drift.Any(d => d.Failure is not null)
            ? ExitCodes.ModelFailures
            : result.Report.HasErrors() ? ExitCodes.VerdictErrors : ExitCodes.Success;
    }

    private static void WriteSummary(RunResult result)
    {
        SummaryWriter.WriteTables(AnsiConsole.Console, result);
        foreach (var drift in result.Drift.Where(d => d.Failure is not null))
        {
            AnsiConsole.MarkupLineInterpolated($"[red]drift of {drift.ModelId} incomplete:[/] {drift.Failure}");
        }

        // Not a failure: a runtime without next-token distributions (an OpenAI-compatible server) is compared on quality and cost.
        foreach (var drift in result.Drift.Where(d => d.Absent is not null))
        {
            AnsiConsole.MarkupLineInterpolated($"[yellow]{drift.ModelId}:[/] {ComparisonText.NoDriftLine(drift.Absent!)}");
        }

        if (result.Report.Comparison is { } comparison)
        {
            SummaryWriter.WriteComparison(AnsiConsole.Console, comparison);
        }
    }
}
