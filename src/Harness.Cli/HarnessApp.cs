using Harness.Cli.Commands;
using Harness.Cli.Output;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Harness.Cli;

/// <summary>The command tree. Kept apart from Program so tests can run the CLI in-process.</summary>
internal static class HarnessApp
{
    public static async Task<int> RunAsync(string[] args)
    {
        using var cancellation = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            // First Ctrl+C stops cleanly (the item in flight is not recorded); a second one kills the process.
            e.Cancel = !cancellation.IsCancellationRequested;
            cancellation.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        ConsoleLayout.Apply(AnsiConsole.Console, Console.IsOutputRedirected);
        try
        {
            return await Build().RunAsync(args, cancellation.Token);
        }
        catch (Exception ex)
        {
            return ErrorReporter.Report(ex);
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    public static CommandApp Build()
    {
        var app = new CommandApp();
        app.Configure(config =>
        {
            config.SetApplicationName("harness");
            config.PropagateExceptions();
            // Spectre's default keeps an unknown option aside and runs anyway: "--modle x" would evaluate every model.
            config.UseStrictParsing();
            config.AddCommand<RunCommand>("run")
                .WithDescription("Evaluate models on task suites and write results/<run-id>/ (store, run.json, report.md, report.json, report.html).")
                .WithExample("run")
                .WithExample("run", "--models", "models.manifest", "--suite", "tasks/arith", "--model", "tiny-bigram")
                .WithExample("run", "--resume", "results/<run-id>")
                .WithExample("run", "--plan", "plans/quant-study", "--shard", "2");
            config.AddCommand<PlanCommand>("plan")
                .WithDescription("Plan a run as N shards in a plan folder (run.json, plan.json), to run on a Slurm job array, a Kubernetes Indexed Job or by hand; --emit writes the job files.")
                .WithExample("plan", "--shards", "3", "--output", "plans/quant-study", "--emit", "slurm")
                .WithExample("plan", "--shards", "8", "--output", "plans/quant-study", "--model", "tiny-bigram", "--emit", "k8s", "--k8s-image", "registry.example/harness:1");
            config.AddCommand<MergeCommand>("merge")
                .WithDescription("Check every shard of a plan folder (plan hash, machine record, completeness) and merge them into one store and the ordinary reports.")
                .WithExample("merge", "plans/quant-study")
                .WithExample("merge", "plans/quant-study", "--wait", "3600");
            config.AddCommand<ValidateCommand>("validate")
                .WithDescription("Check the manifest and every suite; print each problem as file:line.");
            config.AddCommand<ModelsCommand>("models")
                .WithDescription("List the manifest's models with facts read from their GGUF headers.");
            config.AddBranch<TasksSettings>("tasks", tasks =>
            {
                tasks.SetDescription("List the task suites, regenerate the shipped ones, or fetch standard benchmarks from the catalogue.");
                tasks.SetDefaultCommand<TasksCommand>();
                tasks.AddCommand<TasksCommand>("list")
                    .WithDescription("List the suites in the tasks folder, or with --catalog the standard benchmarks harness tasks fetch can write.");
                tasks.AddCommand<TasksGenerateCommand>("generate")
                    .WithDescription("Regenerate the shipped suites deterministically into the tasks folder.");
                tasks.AddCommand<TasksFetchCommand>("fetch")
                    .WithDescription("Download (or --from DIR: read) a catalogue benchmark's pinned files, verify their sha256 and write tasks/<suite>/ with SOURCE.md.")
                    .WithExample("tasks", "fetch", "arc-easy")
                    .WithExample("tasks", "fetch", "arc-easy", "arc-challenge", "--from", "<datasets-dir>");
                // Help prints an example's words joined by spaces, so a word with spaces carries its shell quotes.
                tasks.AddCommand<TasksImportCommand>("import")
                    .WithDescription("Turn a CSV, TSV, JSONL, JSON or Parquet file into a suite (suite.yaml with a Liquid prompt, items.jsonl); every bad row is reported as file:row.")
                    .WithExample("tasks", "import", "docs/examples/qa.csv", "--name", "my-qa", "--kind", "fixed", "--template", "'Q: {{ question }}\\nA:'", "--target", "answer", "--bar", "0.8");
                tasks.AddCommand<TasksScorersCommand>("scorers")
                    .WithDescription("List the scorers a suite can name, with their arguments (--markdown: the reference of docs/suite-format.md).")
                    .WithExample("tasks", "scorers", "--markdown");
                tasks.AddCommand<TasksNewCommand>("new")
                    .WithDescription("Scaffold tasks/<name>/ with a commented suite.yaml and one example item.")
                    .WithExample("tasks", "new", "my-task", "--kind", "open");
            });
            config.AddCommand<DoctorCommand>("doctor")
                .WithDescription("What this machine has: CPU features, GPU, backends that will load, energy meters (and how to enable a missing one), power state.")
                .WithExample("doctor")
                .WithExample("doctor", "--measure", "3");
            config.AddCommand<ReportCommand>("report")
                .WithDescription("Rebuild report.md, report.json and report.html of a run from its stored records; with two runs, compare them item by item (diff-<A>-vs-<B>.md/.json).")
                .WithExample("report", "results/<run-id>")
                .WithExample("report", "results/<run-a>", "results/<run-b>");
            config.AddBranch<ForgeBranchSettings>("forge", forge =>
            {
                forge.SetDescription("Build one of the project's own tiny models from a recipe (--recipe NAME, optionally --output FILE; without --recipe: list them, with --json as JSON), or export a llama GGUF to ONNX (forge onnx).");
                forge.SetDefaultCommand<ForgeCommand>();
                // The branch's help shows only its own options: examples keep the recipe options in sight.
                forge.AddExample("forge");
                forge.AddExample("forge", "--recipe", "tiny-bigram");
                forge.AddCommand<ForgeOnnxCommand>("onnx")
                    .WithDescription("Export a llama GGUF to an ONNX Runtime GenAI folder (model.onnx, genai_config.json, tokenizer files) with the same weights.")
                    .WithExample("forge", "onnx", "models/tiny-arith-xs-f16.gguf", "--output", "models/tiny-arith-xs-onnx");
            });
            config.AddCommand<QuantizeCommand>("quantize")
                .WithDescription("Quantize a manifest model or a GGUF with llama.cpp's quantizer and add the results, with their lineage, to the manifest.")
                .WithExample("quantize", "tiny-multi-s-f16", "--types", "Q8_0,Q4_0")
                .WithExample("quantize", "models/tiny-arith-xs-f16.gguf", "--types", "Q8_0", "--add-to", "models.manifest");
            config.AddCommand<BenchCommand>("bench")
                .WithDescription("llama-bench inside the harness: prompt (pp), generation (tg) and combined (pg) tokens/s and time to first token, swept over threads, batch size, depth, GPU layers and parallel sequences; suite items/s. Markdown, CSV and JSON, with the machine's fingerprint.")
                .WithExample("bench", "--model-file", "models/tiny-multi-s-q4_0.gguf", "-t", "1,2", "-p", "64", "-n", "32", "--parallel", "1,4");
            config.AddCommand<CompareCommand>("compare")
                .WithDescription("Evaluate a base model and candidates (e.g. its quantizations) on identical items: paired quality deltas, distribution drift, perplexity ratio, costs and the ladder of the smallest sufficient one.")
                .WithExample("compare", "--base", "tiny-multi-s-f16", "--candidates", "tiny-multi-s-q8_0,tiny-multi-s-q4_0", "--suite", "tasks/arith");
            config.AddCommand<WorkerCommand>("worker").IsHidden();
        });
        return app;
    }
}
