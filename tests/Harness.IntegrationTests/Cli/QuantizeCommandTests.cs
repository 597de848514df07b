using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Harness.Core.Gguf;
using Harness.Core.Models;
using Harness.Forge;
using Xunit.Abstractions;

namespace Harness.IntegrationTests.Cli;

/// <summary><c>harness quantize</c> as a user runs it: llama.cpp's quantizer, then lineage entries in a manifest.</summary>
[Trait("Category", "Model")]
public sealed class QuantizeCommandTests(ITestOutputHelper log)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(4);

    private static readonly string[] Corpus =
    [
        "the cat sat on the mat.",
        "a dog ate the cake; the cat ate a fish!",
        "Zoe met Tom at 10:30 (sharp).",
        "tic tac toe",
    ];

    [Fact]
    public async Task The_committed_tiny_bigram_is_refused_because_its_rows_of_72_fit_no_quantized_block()
    {
        using var ws = new HarnessProcess.Workspace();
        var manifest = Path.Combine(ws.Root, "models.manifest");
        var before = await File.ReadAllBytesAsync(manifest);

        // llama.cpp gives output.weight Q8_0 in every mix when its rows are not a multiple of 256, and Q8_0 has
        // no smaller-block type to fall back to: 72 is not a multiple of 32, so no type can be written at all.
        foreach (var type in new[] { "Q8_0", "Q4_K_M" })
        {
            var run = await HarnessProcess.RunAsync(ws.Root, Timeout, "quantize", "tiny-bigram", "--types", type, "--threads", "1");

            Assert.True(run.ExitCode == 2, run.Output + run.Error);
            Assert.Contains("could not quantize", run.Error, StringComparison.Ordinal);
            Assert.Contains("no tensor type fallback is defined for type q8_0", Flatten(run.Error), StringComparison.Ordinal);
            // The failure names the log, which holds llama.cpp's own account; stderr holds the one error line, none of
            // the log, and stdout nothing.
            Assert.Contains("llama.cpp's log: models/tiny-bigram-quantize.log", Flatten(run.Error), StringComparison.Ordinal);
            Assert.Contains("no tensor type fallback", await File.ReadAllTextAsync(Path.Combine(ws.Root, "models", "tiny-bigram-quantize.log")), StringComparison.Ordinal);
            Assert.StartsWith("error: ", Assert.Single(run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);
            Assert.Empty(run.Output.Trim());
            Assert.Empty(Directory.GetFiles(Path.Combine(ws.Root, "models"), "tiny-bigram-q*.gguf"));
        }

        Assert.Equal(before, await File.ReadAllBytesAsync(manifest));
    }

    [Fact]
    public async Task Quantizing_a_manifest_model_writes_the_files_and_their_lineage_and_records_the_k_quant_fallback()
    {
        using var ws = new HarnessProcess.Workspace();
        // The recipe of tiny-bigram, padded to 96 columns and a feed-forward width of 32: rows that split into
        // 32-element blocks (Q8_0, Q5_0) but not into the K-quants' 256.
        var fitted = BigramRecipe.Build(Corpus, BigramOptions.Default with { Name = "bigram-96" });
        Assert.True(fitted.ClassCount <= 96, $"{fitted.ClassCount} classes do not fit 96 columns");
        var wide = fitted with { Hyperparameters = fitted.Hyperparameters with { EmbeddingLength = 96, HeadCount = 12, HeadCountKv = 12, FeedForwardLength = 32 } };
        var basePath = Path.Combine(ws.Root, "models", "bigram-96.gguf");
        wide.WriteFile(basePath);
        var manifestPath = Path.Combine(ws.Root, "models.manifest");
        await File.AppendAllTextAsync(manifestPath, """
            # 96 columns: quantizable to Q8_0, K-quants fall back.
              - id: bigram-96
                path: models/bigram-96.gguf
                backend: { context_size: 256, chat_template: none }

            """.Replace("\r\n", "\n", StringComparison.Ordinal));
        var original = await File.ReadAllTextAsync(manifestPath);
        var originalIds = new ManifestLoader().Load(manifestPath).Models.Select(m => m.Id).ToList();

        var run = await HarnessProcess.RunAsync(ws.Root, Timeout, "quantize", "bigram-96", "--types", "Q8_0,Q4_K_M", "--threads", "1");

        log.WriteLine(run.Output + run.Error);
        Assert.True(run.ExitCode == 0, run.Output + run.Error);
        // llama.cpp's per-tensor warnings go to the log file; the console has one line, whose count agrees with the table.
        Assert.DoesNotContain("warning", run.Error, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("llama.cpp", run.Error, StringComparison.Ordinal);
        var nativeLog = await File.ReadAllTextAsync(Path.Combine(ws.Root, "models", "bigram-96-quantize.log"));
        Assert.Contains("falling back to", nativeLog, StringComparison.Ordinal);
        Assert.Contains("8 of 12 tensor(s) required fallback quantization", nativeLog, StringComparison.Ordinal);
        Assert.Contains(
            "llama.cpp log: models/bigram-96-quantize.log (Q8_0: no warnings; Q4_K_M: 9 warnings; its \"8 of 12 tensor(s) required fallback\" counts the same 8 as \"fell back\"",
            Flatten(run.Output), StringComparison.Ordinal);
        Assert.Contains("8 of 9", run.Output, StringComparison.Ordinal); // the table cell, wrapped inside its column
        var text = await File.ReadAllTextAsync(manifestPath);
        Assert.StartsWith(original, text, StringComparison.Ordinal); // comments and the old entries untouched
        var manifest = new ManifestLoader().Load(manifestPath);
        Assert.Equal([.. originalIds, "bigram-96-q8_0", "bigram-96-q4_k_m"], manifest.Models.Select(m => m.Id));
        Assert.Equal("bigram-96", originalIds[^1]);

        var baseSha256 = Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(basePath)));
        var baseFacts = GgufFacts.Read(basePath);
        var baseBitsPerWeight = baseFacts.FileSizeBytes * 8.0 / baseFacts.ParameterCount;
        var bits = new Dictionary<string, double>();
        foreach (var (id, type) in new[] { ("bigram-96-q8_0", "Q8_0"), ("bigram-96-q4_k_m", "Q4_K_M") })
        {
            var entry = manifest.Models.Single(m => m.Id == id);
            var file = Path.Combine(ws.Root, "models", $"bigram-96-{type.ToLowerInvariant()}.gguf");
            Assert.Equal($"models/bigram-96-{type.ToLowerInvariant()}.gguf", entry.Source.Path);
            Assert.Equal($"bigram-96 quantized to {type} by llama.cpp", entry.Description);
            Assert.Equal(256, entry.Backend.ContextSize);
            Assert.Equal(ChatTemplateMode.None, entry.Backend.ChatTemplate);

            var facts = GgufFacts.Read(file);
            Assert.Equal(type, facts.Quantization);
            Assert.Equal(baseFacts.ParameterCount, facts.ParameterCount);
            var metadata = entry.Metadata;
            Assert.Equal("bigram-96", metadata["base_model"]);
            Assert.Equal(baseSha256, metadata["base_sha256"]);
            Assert.Equal(type, metadata["quantization"]);
            Assert.Equal(new FileInfo(file).Length.ToString(CultureInfo.InvariantCulture), metadata["file_bytes"]);
            Assert.Equal("llama.cpp c0c7e14 via LLamaSharp 0.30.0", metadata["quantizer"]);
            Assert.Equal(QuantizedTensors.Histogram(GgufReader.Read(file)), metadata["tensor_types"]);
            Assert.False(metadata.ContainsKey("base_file"));
            bits[type] = double.Parse(metadata["bits_per_weight"], CultureInfo.InvariantCulture);
            Assert.Equal((facts.FileSizeBytes * 8.0 / facts.ParameterCount).ToString("F2", CultureInfo.InvariantCulture), metadata["bits_per_weight"]);

            // llama.cpp loads the quantized file and runs it.
            var (tokens, logits) = LlamaCppReference.Run(file, "the cat");
            Assert.Equal(tokens.Length, logits.Length);
        }

        Assert.InRange(baseBitsPerWeight, 15, 20);
        Assert.InRange(bits["Q8_0"], 8, baseBitsPerWeight - 4);
        Assert.InRange(bits["Q4_K_M"], 4, bits["Q8_0"]);
        Assert.False(manifest.Models.Single(m => m.Id == "bigram-96-q8_0").Metadata.ContainsKey("fallback"));
        // Every matrix but the output fell back: Q4_K to Q5_0; the ones the mix gives Q6_K (attn_v, ffn_down) to Q8_0.
        // output.weight is not counted, as llama.cpp does not: its rule for that tensor picks Q8_0 directly.
        Assert.Equal(
            "8/9 weight matrices: row sizes 32, 96 not multiples of 256",
            manifest.Models.Single(m => m.Id == "bigram-96-q4_k_m").Metadata["fallback"]);
        Assert.Equal("F32:3 Q5_0:6 Q8_0:3", manifest.Models.Single(m => m.Id == "bigram-96-q4_k_m").Metadata["tensor_types"]);

        // Quantizing again replaces the entry and the file instead of adding a second one.
        var again = await HarnessProcess.RunAsync(ws.Root, Timeout, "quantize", "bigram-96", "--types", "q8_0", "--threads", "1");

        Assert.True(again.ExitCode == 0, again.Output + again.Error);
        Assert.Equal(manifest.Models.Select(m => m.Id), new ManifestLoader().Load(manifestPath).Models.Select(m => m.Id));
        Assert.Equal(text, await File.ReadAllTextAsync(manifestPath));
    }

    [Fact]
    public async Task With_json_stdout_holds_each_file_with_its_facts_and_the_log_line_goes_to_stderr()
    {
        using var ws = new HarnessProcess.Workspace();
        var fitted = BigramRecipe.Build(Corpus, BigramOptions.Default with { Name = "bigram-96" });
        var wide = fitted with { Hyperparameters = fitted.Hyperparameters with { EmbeddingLength = 96, HeadCount = 12, HeadCountKv = 12, FeedForwardLength = 32 } };
        wide.WriteFile(Path.Combine(ws.Root, "models", "bigram-96.gguf"));
        await File.AppendAllTextAsync(Path.Combine(ws.Root, "models.manifest"), "  - id: bigram-96\n    path: models/bigram-96.gguf\n");

        var run = await HarnessProcess.RunAsync(ws.Root, Timeout, "quantize", "bigram-96", "--types", "Q8_0,Q4_K_M", "--threads", "1", "--json");

        Assert.True(run.ExitCode == 0, run.Output + run.Error);
        using var json = JsonDocument.Parse(run.Output);
        var root = json.RootElement;
        Assert.Equal("bigram-96", root.GetProperty("baseId").GetString());
        Assert.Equal("models/bigram-96-quantize.log", root.GetProperty("log").GetString());
        Assert.Equal("models/bigram-96.gguf", root.GetProperty("input").GetString());
        Assert.Equal("models.manifest", root.GetProperty("manifest").GetString());
        var files = root.GetProperty("files").EnumerateArray().ToList();
        Assert.Equal(["Q8_0", "Q4_K_M"], files.Select(f => f.GetProperty("type").GetString()));
        foreach (var file in files)
        {
            var path = file.GetProperty("file").GetString()!;
            Assert.Equal(new FileInfo(Path.Combine(ws.Root, path)).Length, file.GetProperty("sizeBytes").GetInt64());
            Assert.True(file.GetProperty("bitsPerParameter").GetDouble() > 4);
            Assert.Equal(JsonValueKind.Null, file.GetProperty("manifestError").ValueKind);
        }

        Assert.Equal("bigram-96-q8_0", files[0].GetProperty("manifestId").GetString());
        Assert.Equal(JsonValueKind.Null, files[0].GetProperty("fallback").ValueKind);
        Assert.Equal(0, files[0].GetProperty("llamaCpp").GetProperty("warnings").GetInt32());
        var k = files[1];
        Assert.Equal("bigram-96-q4_k_m", k.GetProperty("manifestId").GetString());
        Assert.Equal((8, 9), (k.GetProperty("fallback").GetProperty("fellBack").GetInt32(), k.GetProperty("fallback").GetProperty("weightMatrices").GetInt32()));
        Assert.Equal((8, 12), (k.GetProperty("llamaCpp").GetProperty("reportedFallbacks").GetInt32(), k.GetProperty("llamaCpp").GetProperty("reportedTensors").GetInt32()));
        Assert.Contains("llama.cpp log: models/bigram-96-quantize.log (Q8_0: no warnings; Q4_K_M: 9 warnings", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_path_with_add_to_records_the_file_and_no_manifest_writes_nothing()
    {
        using var ws = new HarnessProcess.Workspace();
        var fitted = BigramRecipe.Build(Corpus, BigramOptions.Default with { Name = "bigram-64" });
        var wide = fitted with { Hyperparameters = fitted.Hyperparameters with { EmbeddingLength = 64, HeadCount = 8, HeadCountKv = 8, FeedForwardLength = 32 } };
        var outside = Directory.CreateDirectory(Path.Combine(ws.Root, "elsewhere")).FullName;
        wide.WriteFile(Path.Combine(outside, "Bigram 64.gguf"));
        var manifestPath = Path.Combine(ws.Root, "models.manifest");
        var before = await File.ReadAllTextAsync(manifestPath);

        var skipped = await HarnessProcess.RunAsync(ws.Root, Timeout, "quantize", "elsewhere/Bigram 64.gguf", "--types", "Q8_0", "--threads", "1", "--no-manifest");

        Assert.True(skipped.ExitCode == 0, skipped.Output + skipped.Error);
        Assert.True(File.Exists(Path.Combine(outside, "Bigram 64-q8_0.gguf")));
        Assert.Equal(before, await File.ReadAllTextAsync(manifestPath));

        var added = await HarnessProcess.RunAsync(ws.Root, Timeout, "quantize", "elsewhere/Bigram 64.gguf", "--types", "Q8_0", "--threads", "1",
            "--add-to", "models.manifest", "--output-dir", "models/quantized");

        Assert.True(added.ExitCode == 0, added.Output + added.Error);
        var entry = new ManifestLoader().Load(manifestPath).Models[^1];
        Assert.Equal("bigram-64-q8_0", entry.Id);
        // The output folder did not exist: quantize creates it.
        Assert.Equal("models/quantized/Bigram 64-q8_0.gguf", entry.Source.Path);
        Assert.Equal("bigram-64", entry.Metadata["base_model"]);
        Assert.Equal("elsewhere/Bigram 64.gguf", entry.Metadata["base_file"]);
        Assert.Equal("Bigram 64.gguf quantized to Q8_0 by llama.cpp", entry.Description);
        Assert.Equal("F32:3 Q8_0:9", entry.Metadata["tensor_types"]);
    }

    [Fact]
    public async Task A_manifest_that_cannot_be_edited_keeps_its_bytes_and_the_entry_to_paste_is_printed_whole()
    {
        using var ws = new HarnessProcess.Workspace();
        var manifestPath = Path.Combine(ws.Root, "defaults-last.manifest");
        await File.WriteAllTextAsync(manifestPath, "version: 1\nmodels:\n  - id: tiny-bigram\n    path: models/tiny-bigram.gguf\ndefaults:\n  threads: 1\n");
        var before = await File.ReadAllBytesAsync(manifestPath);

        // F16 is the one type the committed bigram's rows of 72 allow.
        var run = await HarnessProcess.RunAsync(ws.Root, Timeout, "quantize", "tiny-bigram", "--models", "defaults-last.manifest", "--types", "F16", "--threads", "1");

        Assert.True(run.ExitCode == 2, run.Output + run.Error);
        Assert.Equal(before, await File.ReadAllBytesAsync(manifestPath));
        Assert.True(File.Exists(Path.Combine(ws.Root, "models", "tiny-bigram-f16.gguf")));
        // The refusal and the entry to paste are on stderr; stdout keeps the table.
        Assert.Contains("'models:' is not the last top-level key ('defaults' follows it)", Flatten(run.Error), StringComparison.Ordinal);
        Assert.Contains("not written (below)", run.Output, StringComparison.Ordinal);
        var sha256 = Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(Path.Combine(ws.Root, "models", "tiny-bigram.gguf"))));
        Assert.Contains("  - id: tiny-bigram-f16\n    path: models/tiny-bigram-f16.gguf\n", run.Error.Replace("\r\n", "\n", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.Contains($"      base_sha256: {sha256}\n", run.Error.Replace("\r\n", "\n", StringComparison.Ordinal), StringComparison.Ordinal);
    }

    /// <summary>The console wraps long lines at 80 columns when redirected; words survive, line breaks do not.</summary>
    private static string Flatten(string output) =>
        string.Join(' ', output.Split((char[])[' ', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries));
}
