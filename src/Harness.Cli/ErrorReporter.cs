using Harness.Core.Backends;
using Harness.Core.Downloads;
using Harness.Core.Models;
using Harness.Core.Runs;
using Harness.Core.Suites;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Harness.Cli;

/// <summary>
/// Turns failures into one readable line on stderr and an exit code; a stack trace only for our own bugs.
/// Stderr, because stdout is a command's result: with <c>--json</c> a reader parses it, and an error line there
/// would make it unparseable.
/// </summary>
internal static class ErrorReporter
{
    public static int Report(Exception exception) => Report(exception, Output.ConsoleLayout.StandardError());

    public static int Report(Exception exception, IAnsiConsole console)
    {
        switch (exception)
        {
            case Running.RunCancelledException { Resumable: true } run:
                console.MarkupLineInterpolated(
                    $"[yellow]Cancelled.[/] What was finished is kept in {run.RunDirectory}; continue with [bold]{run.ResumeCommand(Environment.CurrentDirectory)}[/]");
                return ExitCodes.Cancelled;
            case Running.RunCancelledException run:
                console.MarkupLineInterpolated($"[yellow]Cancelled[/] before the first item: {run.RunDirectory} holds no plan to resume; start the run again.");
                return ExitCodes.Cancelled;
            case OperationCanceledException:
                console.MarkupLine("[yellow]Cancelled.[/] What was finished is kept.");
                return ExitCodes.Cancelled;
            case InputFileException or Tasks.Import.ImportException or ManifestEditException or RunFolderBusyException or ModelResolutionException or ModelLoadException or CommandAppException:
                console.MarkupLineInterpolated($"[red]error:[/] {exception.Message}");
                return ExitCodes.BadInput;
            default:
                console.MarkupLine("[red]unexpected error[/] (a bug in harness; please report it with this trace):");
                console.WriteException(exception, ExceptionFormats.ShortenEverything);
                return ExitCodes.UnexpectedError;
        }
    }
}
