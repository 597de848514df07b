using System.ComponentModel;
using System.Globalization;
using Harness.Forge;
using Harness.Forge.Training;
using Harness.Cli.Output;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Harness.Cli.Commands;

/// <summary>Settings shared by <c>forge</c> (build a recipe) and <c>forge onnx</c>: none, but Spectre's branch needs a base.</summary>
internal class ForgeBranchSettings : CommandSettings
{
}

internal sealed class ForgeSettings : ForgeBranchSettings
{
    [CommandOption("--recipe <NAME>")]
    [Description("Recipe to build; omit to list them")]
    public string? Recipe { get; init; }

    [CommandOption("--output <FILE>")]
    [Description("Where to write the GGUF. Default: models/<recipe>.gguf")]
    public string? Output { get; init; }

    [CommandOption("--json")]
    [Description("With no --recipe: list the recipes as JSON")]
    public bool Json { get; init; }

    public override ValidationResult Validate() =>
        Json && Recipe is not null
            ? ValidationResult.Error("--json lists the recipes; it does not apply to building one (--recipe)")
            : ValidationResult.Success();
}

/// <summary>Builds one of the project's own tiny models, so the offline default can be reproduced from source.</summary>
internal sealed class ForgeCommand : AsyncCommand<ForgeSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, ForgeSettings settings, CancellationToken cancellationToken)
    {
        if (settings.Recipe is null && settings.Json)
        {
            Console.Out.WriteLine(System.Text.Json.JsonSerializer.Serialize(
                ForgeRecipes.All.Select(r => new { r.Name, r.Description, r.DefaultFileName }), Core.Serialization.HarnessJson.IndentedOptions));
            return ExitCodes.Success;
        }

        if (settings.Recipe is null)
        {
            var table = new Table().AddColumns("recipe", "description").KeepWhole(0);
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
            Harness.Cli.Output.ConsoleLayout.StandardError().MarkupLineInterpolated($"[red]error:[/] no recipe '{settings.Recipe}'; known: {string.Join(", ", ForgeRecipes.All.Select(r => r.Name))}");
            return ExitCodes.BadInput;
        }

        var output = settings.Output ?? Path.Combine("models", recipe.DefaultFileName);
        var result = recipe is ITrainingForgeRecipe training
            ? await TrainAsync(training, output, cancellationToken)
            : await recipe.BuildAsync(output, cancellationToken);
        AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture,
            $"wrote {result.OutputPath}: {result.FileSizeBytes} bytes in {result.BuildTime.TotalSeconds:F1} s (seed {result.Seed}, {result.TrainingExamples} training texts, sha256 {result.TrainingDataSha256})");
        if (result.Training is { } t)
        {
            AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture,
                $"training: {t.Steps} steps, loss {t.FirstLoss:F3} -> {t.FinalLoss:F3} nats/token, {t.TargetTokens} target tokens, {t.Duration.TotalMinutes:F1} min");
        }

        return ExitCodes.Success;
    }

    private static async Task<ForgeResult> TrainAsync(ITrainingForgeRecipe recipe, string output, CancellationToken cancellationToken)
    {
        if (!AnsiConsole.Profile.Capabilities.Interactive)
        {
            // Logs get a line every 2% of the steps; Ctrl+C stops between steps and keeps the last checkpoint.
            var every = Math.Max(1, recipe.Steps / 50);
            var lines = new SynchronousProgress<TrainingProgress>(p =>
            {
                if (p.Step % every == 0 || p.Step == p.Steps)
                {
                    Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{recipe.Name}: step {p.Step}/{p.Steps} loss {p.AverageLoss:F3} lr {p.LearningRate:G3} elapsed {p.Elapsed:hh\\:mm\\:ss} eta {p.EstimatedRemaining:hh\\:mm\\:ss}"));
                }
            });
            return await recipe.BuildAsync(output, lines, cancellationToken);
        }

        ForgeResult? result = null;
        await AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .StartAsync(async context =>
            {
                var task = context.AddTask(recipe.Name, maxValue: recipe.Steps);
                var bar = new SynchronousProgress<TrainingProgress>(p =>
                {
                    task.Value = p.Step;
                    task.Description = string.Create(CultureInfo.InvariantCulture, $"{recipe.Name} · loss {p.AverageLoss:F3}");
                });
                result = await recipe.BuildAsync(output, bar, cancellationToken);
            });
        return result!;
    }

    // Reports on the trainer's thread, in order (System.Progress would post to the thread pool).
    private sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
