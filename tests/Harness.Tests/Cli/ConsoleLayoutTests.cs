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

    // A console as Spectre builds one over a pipe: no terminal, so its width is the 80-column fallback.
    private static string Render(bool outputRedirected)
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
        table.AddRow(LongId, "llama", "49.4K", "Q4_0", "43.8 KiB", "128", "no", $"models/{LongId}.gguf");
        console.Write(table);
        return writer.ToString();
    }
}
