using System.ComponentModel;
using System.Globalization;
using Harness.Cli.Benchmarking;
using Harness.Cli.Output;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Harness.Cli.Commands;

internal sealed class BenchSettings : CommandSettings
{
    [CommandOption("--model <ID>")]
    [Description("A model id from the manifest (repeatable; local files only)")]
    public string[] Models { get; init; } = [];

    [CommandOption("--model-file <GGUF>")]
    [Description("A GGUF file to measure directly (repeatable)")]
    public string[] ModelFiles { get; init; } = [];

    [CommandOption("--models <FILE>")]
    [Description("Model manifest for --model. Default: models.manifest")]
    public string Manifest { get; init; } = "models.manifest";

    [CommandOption("-p|--prompt <LIST>")]
    [Description("Prompt lengths for pp tests, comma-separated; 0 for none. Default: 512")]
    public string Prompt { get; init; } = "512";

    [CommandOption("-n|--gen <LIST>")]
    [Description("Generation lengths for tg tests; 0 for none. Default: 128")]
    public string Generate { get; init; } = "128";

    [CommandOption("--pg <P,N>")]
    [Description("A combined prompt+generation test, e.g. 512,128. Default: none")]
    public string? PromptAndGenerate { get; init; }

    [CommandOption("-t|--threads <LIST>")]
    [Description("Thread counts. Default: the logical core count")]
    public string? Threads { get; init; }

    [CommandOption("-b|--batch <LIST>")]
    [Description("Batch sizes (n_batch = n_ubatch). Default: 512")]
    public string Batch { get; init; } = "512";

    [CommandOption("-d|--depth <LIST>")]
    [Description("Tokens already in the context before each test. Default: 0")]
    public string Depth { get; init; } = "0";

    [CommandOption("--gpu-layers <LIST>")]
    [Description("Layers offloaded to a GPU (CUDA/Metal builds). Default: 0")]
    public string GpuLayers { get; init; } = "0";

    [CommandOption("--parallel <LIST>")]
    [Description("Sequences generated together in tg and suite tests. Default: 1")]
    public string Parallel { get; init; } = "1";

    [CommandOption("--suite <DIR>")]
    [Description("Also measure evaluating this suite: items/s (repeatable)")]
    public string[] Suites { get; init; } = [];

    [CommandOption("--items <N>")]
    [Description("Items per suite test. Default: 64")]
    public int Items { get; init; } = 64;

    [CommandOption("--ctx <N>")]
    [Description("Context size per sequence; raised to fit the longest test. Default: 512")]
    public int ContextSize { get; init; } = 512;

    [CommandOption("-r|--reps <N>")]
    [Description("Timed repetitions per test. Default: 5")]
    public int Repetitions { get; init; } = 5;

    [CommandOption("--warmup <N>")]
    [Description("Untimed repetitions first. Default: 1")]
    public int Warmup { get; init; } = 1;

    [CommandOption("--raw <PROGRAM>")]
    [Description("The raw llama.cpp C-API program (tests/Harness.Benchmarks/raw), run alternately with the harness for a ratio column")]
    public string? Raw { get; init; }

    [CommandOption("--rounds <N>")]
    [Description("Alternating harness/raw rounds per test, repetitions pooled. Default: 3 with --raw, else 1")]
    public int? Rounds { get; init; }

    [CommandOption("-o|--output <DIR>")]
    [Description("Where bench.md, bench.csv and bench.json go. Default: results/bench-<time>")]
    public string? Output { get; init; }

    [CommandOption("--json")]
    [Description("Print bench.json's document on stdout instead of the table; progress and warnings go to stderr")]
    public bool Json { get; init; }

    public override ValidationResult Validate()
    {
        if (Models.Length + ModelFiles.Length == 0)
            return ValidationResult.Error("name at least one --model or --model-file");
        if (Repetitions < 1 || Warmup < 0 || Items < 1 || ContextSize < 1 || Rounds < 1)
            return ValidationResult.Error("--reps, --items, --ctx and --rounds must be positive and --warmup not negative");
        foreach (var (name, list, minimum) in new[]
                 {
                     ("--prompt", Prompt, 0), ("--gen", Generate, 0), ("--threads", Threads ?? "1", 1), ("--batch", Batch, 1),
                     ("--depth", Depth, 0), ("--gpu-layers", GpuLayers, 0), ("--parallel", Parallel, 1),
                 })
        {
            if (!BenchPlan.TryParseList(list, minimum, out _))
                return ValidationResult.Error($"{name} takes comma-separated integers of at least {minimum}, got '{list}'");
        }
        if (PromptAndGenerate is not null && (!BenchPlan.TryParseList(PromptAndGenerate, 1, out var pg) || pg.Length != 2))
            return ValidationResult.Error($"--pg takes two positive integers P,N, got '{PromptAndGenerate}'");
        return ValidationResult.Success();
    }
}

/// <summary><c>harness bench</c>: llama-bench's tables (pp, tg, pg, TTFT) measured through the harness's own decode path.</summary>
internal sealed class BenchCommand : AsyncCommand<BenchSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, BenchSettings settings, CancellationToken cancellationToken)
    {
        var plan = BenchPlan.From(settings, Environment.GetCommandLineArgs());
        // With --json, stdout carries the one document; the per-test lines and their warnings go to stderr.
        var progress = settings.Json ? ConsoleLayout.StandardError() : AnsiConsole.Console;
        using var http = new HttpClient();
        var runner = new BenchRunner(plan, progress, Running.HarnessBackends.InProcess(new Running.BackendServices(TextWriter.Null, http, TimeProvider.System)));
        var report = await runner.RunAsync(cancellationToken);
        var output = Path.GetFullPath(settings.Output ?? Path.Combine("results", "bench-" + DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)));
        var written = BenchRunner.Write(report, output).ToList();
        if (settings.Json)
        {
            Console.Out.WriteLine(Core.Benchmarks.BenchWriters.Json(report));
        }
        else
        {
            AnsiConsole.WriteLine();
            AnsiConsole.Write(new Text(Core.Benchmarks.BenchWriters.Markdown(report)));
        }

        progress.MarkupLineInterpolated($"Results: {output} ({string.Join(", ", written.Select(Path.GetFileName))})");
        return ExitCodes.Success;
    }
}
