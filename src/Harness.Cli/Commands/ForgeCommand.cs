using System.ComponentModel;
using System.Globalization;
using Harness.Forge;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Harness.Cli.Commands;

internal sealed class ForgeSettings : CommandSettings
{
    [CommandOption("--recipe <NAME>")]
    [Description("Recipe to build; omit to list them")]
    public string? Recipe { get; init; }

    [CommandOption("--output <FILE>")]
    [Description("Where to write the GGUF. Default: models/<recipe>.gguf")]
    public string? Output { get; init; }
}

/// <summary>Builds one of the project's own tiny models, so the offline default can be reproduced from source.</summary>
internal sealed class ForgeCommand : AsyncCommand<ForgeSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, ForgeSettings settings, CancellationToken cancellationToken)
    {
        if (settings.Recipe is null)
        {
            var table = new Table().AddColumns("recipe", "description");
            foreach (var r in ForgeRecipes.All)
            {
                table.AddRow(Markup.Escape(r.Name), Markup.Escape(r.Description));
            }

            AnsiConsole.Write(table);
            return ExitCodes.Success;
        }

        var recipe = ForgeRecipes.Find(settings.Recipe);
        if (recipe is null)
        {
            AnsiConsole.MarkupLineInterpolated($"[red]error:[/] no recipe '{settings.Recipe}'; known: {string.Join(", ", ForgeRecipes.All.Select(r => r.Name))}");
            return ExitCodes.BadInput;
        }

        var result = await recipe.BuildAsync(settings.Output ?? Path.Combine("models", recipe.DefaultFileName), cancellationToken);
        AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture,
            $"wrote {result.OutputPath}: {result.FileSizeBytes} bytes in {result.BuildTime.TotalSeconds:F1} s (seed {result.Seed}, {result.TrainingExamples} training texts, sha256 {result.TrainingDataSha256})");
        return ExitCodes.Success;
    }
}
