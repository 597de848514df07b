using Harness.Core.Backends;
using Harness.Core.Downloads;
using Harness.Core.Models;
using Harness.Core.Runs;
using Harness.Core.Suites;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Harness.Cli;

/// <summary>Turns failures into one readable line and an exit code; a stack trace only for our own bugs.</summary>
internal static class ErrorReporter
{
    public static int Report(Exception exception)
    {
        switch (exception)
        {
            case Running.RunCancelledException { Resumable: true } run:
                AnsiConsole.MarkupLineInterpolated(
                    $"[yellow]Cancelled.[/] What was finished is kept in {run.RunDirectory}; continue with [bold]{run.ResumeCommand(Environment.CurrentDirectory)}[/]");
                return ExitCodes.Cancelled;
            case Running.RunCancelledException run:
                AnsiConsole.MarkupLineInterpolated($"[yellow]Cancelled[/] before the first item: {run.RunDirectory} holds no plan to resume; start the run again.");
                return ExitCodes.Cancelled;
            case OperationCanceledException:
                AnsiConsole.MarkupLine("[yellow]Cancelled.[/] What was finished is kept.");
                return ExitCodes.Cancelled;
            case InputFileException or Tasks.Import.ImportException or ManifestEditException or RunFolderBusyException or ModelResolutionException or ModelLoadException or CommandAppException:
                AnsiConsole.MarkupLineInterpolated($"[red]error:[/] {exception.Message}");
                return ExitCodes.BadInput;
            default:
                AnsiConsole.MarkupLine("[red]unexpected error[/] (a bug in harness; please report it with this trace):");
                AnsiConsole.WriteException(exception, ExceptionFormats.ShortenEverything);
                return ExitCodes.UnexpectedError;
        }
    }
}
