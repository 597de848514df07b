using Spectre.Console;

namespace Harness.Cli.Output;

/// <summary>How wide the console lays out tables when nobody reads it in a terminal.</summary>
internal static class ConsoleLayout
{
    /// <summary>
    /// The width given to redirected output. Spectre falls back to 80 columns when stdout has no terminal, and a table
    /// that does not fit is wrapped inside its cells, splitting ids mid-word; piped into grep, a file or another
    /// program, each row should instead stay on one line, however long.
    /// </summary>
    public const int RedirectedWidth = 4096;

    /// <summary>Widens <paramref name="console"/> when its output goes to a pipe or a file; a terminal keeps its own width.</summary>
    public static void Apply(IAnsiConsole console, bool outputRedirected)
    {
        ArgumentNullException.ThrowIfNull(console);
        if (outputRedirected)
        {
            console.Profile.Width = RedirectedWidth;
        }
    }

    /// <summary>
    /// Keeps the named columns (model ids, suite names, file names) on one line in a narrow terminal: Spectre shrinks a
    /// table to the terminal's width by wrapping inside cells, and an id split as "tiny-bigr|am" cannot be copied into
    /// the next command. The other columns wrap instead.
    /// </summary>
    public static Table KeepWhole(this Table table, params int[] columns)
    {
        ArgumentNullException.ThrowIfNull(table);
        foreach (var index in columns)
        {
            table.Columns[index].NoWrap = true;
        }

        return table;
    }

    /// <summary>
    /// A console on stderr, laid out as <see cref="Apply"/> lays out stdout. Errors, warnings and progress go here
    /// so that stdout carries only a command's result: with <c>--json</c>, exactly one JSON document.
    /// </summary>
    public static IAnsiConsole StandardError()
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        Apply(console, Console.IsErrorRedirected);
        return console;
    }
}
