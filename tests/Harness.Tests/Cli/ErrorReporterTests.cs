using Harness.Cli;
using Harness.Core.Suites;
using Spectre.Console;

namespace Harness.Tests.Cli;

public sealed class ErrorReporterTests
{
    [Fact]
    public void An_input_error_is_one_line_on_the_console_it_is_given_with_exit_code_2()
    {
        using var writer = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Out = new AnsiConsoleOutput(writer),
        });

        var code = ErrorReporter.Report(new InputFileException("models.manifest", 3, "bad id"), console);

        Assert.Equal(ExitCodes.BadInput, code);
        Assert.StartsWith("error: ", writer.ToString(), StringComparison.Ordinal);
        Assert.Contains("bad id", writer.ToString(), StringComparison.Ordinal);
        Assert.Single(writer.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }
}
