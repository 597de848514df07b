using System.Text.Json;
using Harness.Core.Scoring;
using Harness.Core.Serialization;
using Harness.Cli.Output;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Harness.Cli.Commands;

internal sealed class TasksScorersSettings : TasksSettings
{
    [CommandOption("--json")]
    public bool Json { get; init; }

    [CommandOption("--markdown")]
    [System.ComponentModel.Description("Print the scorer reference of docs/suite-format.md (every scorer, its arguments and an example)")]
    public bool Markdown { get; init; }
}

/// <summary>The registered scorers and their arguments, from the same descriptions that validate a suite's arguments.</summary>
internal sealed class TasksScorersCommand : Command<TasksScorersSettings>
{
    public override int Execute(CommandContext context, TasksScorersSettings settings, CancellationToken cancellationToken)
    {
        using var scorers = new Scoring.HarnessScorers();
        var factories = scorers.Registry.Factories.ToList();
        if (settings.Markdown)
        {
            Console.Out.Write(ScorerReference.Markdown(factories));
            return ExitCodes.Success;
        }

        if (settings.Json)
        {
            Console.Out.WriteLine(JsonSerializer.Serialize(factories.Select(f => f.Description), HarnessJson.IndentedOptions));
            return ExitCodes.Success;
        }

        var table = new Table().AddColumns("scorer", "arguments").KeepWhole(0);
        foreach (var description in factories.Select(f => f.Description))
        {
            var arguments = description.Arguments.IsDefaultOrEmpty ? "-" : string.Join(", ", description.Arguments.Select(a => a.Summary));
            table.AddRow(Markup.Escape(description.Name), Markup.Escape(arguments));
        }

        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine("Every argument with its meaning and an example: harness tasks scorers --markdown, or docs/suite-format.md");
        return ExitCodes.Success;
    }
}
