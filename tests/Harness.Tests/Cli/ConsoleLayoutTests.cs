using Harness.Cli.Output;
using Spectre.Console;

namespace Harness.Tests.Cli;

public sealed class ConsoleLayoutTests
{
    private const string LongId = "tiny-arith-xs-q4_0-with-a-long-suffix";

    [Fact]
    public void A_redirected_console_keeps_each_table_row_on_one_line_where_the_80_column_default_splits_ids()
    {
        Assert.DoesNotContain(LongId, Render(outputRedirected: false), StringComparison.Ordinal);

        var piped = Render(outputRedirected: true);

        Assert.Single(piped.Split('\n'), line => line.Contains(LongId, StringComparison.Ordinal) && line.Contains($"models/{LongId}.gguf", StringComparison.Ordinal));
    }

    [Fact]
    public void In_a_narrow_terminal_the_id_column_stays_whole_and_the_other_columns_wrap()
    {
        var terminal = Render(outputRedirected: false, keepIdWhole: true);

        Assert.Contains(LongId, terminal, StringComparison.Ordinal);
        Assert.All(terminal.Split('\n'), line => Assert.True(line.TrimEnd().Length <= 80, line));
    }

    // A console as Spectre builds one over a pipe: no terminal, so its width is the 80-column fallback.
    private static string Render(bool outputRedirected, bool keepIdWhole = false)
    {
        using var writer = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Out = new AnsiConsoleOutput(writer),
            Interactive = InteractionSupport.No,
        });
        console.Profile.Width = 80;
        ConsoleLayout.Apply(console, outputRedirected);
        var table = new Table().AddColumns("id", "arch", "params", "quant", "size", "ctx", "template", "source");
        if (keepIdWhole)
        {
            table.KeepWhole(0);
        }

        table.AddRow(LongId, "llama", "49.4K", "Q4_0", "43.8 KiB", "128", "no", $"models/{LongId}.gguf");
        console.Write(table);
        return writer.ToString();
    }
}
