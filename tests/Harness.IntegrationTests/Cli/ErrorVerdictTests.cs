using System.Text;
using System.Text.Json;
using Harness.Core.Runs;
using Harness.Store.Sqlite;

namespace Harness.IntegrationTests.Cli;

/// <summary>
/// The new user's story: a suite whose prompts do not fit the model's context. The run must end with a non-zero exit,
/// an <c>error</c> verdict and the reason on the console and in every report, never "0 % insufficient".
/// </summary>
[Trait("Category", "Model")]
public sealed class ErrorVerdictTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(4);

    [Fact]
    public async Task Prompts_longer_than_the_context_give_an_error_verdict_the_reason_and_exit_4()
    {
        using var ws = new HarnessProcess.Workspace();
        // tiny-bigram reads characters: a 600-character prompt is about 600 tokens, far over a context of 256.
        var suite = Path.Combine(ws.Root, "tasks-long", "long");
        Directory.CreateDirectory(suite);
        await File.WriteAllTextAsync(Path.Combine(suite, "suite.yaml"), """
            name: long
            version: 1
            kind: fixed
            description: "Sums behind a long preamble; most prompts do not fit a 256-token context."
            request: generate
            prompt:
              template: "{{preamble}}{{a}}+{{b}}="
            generation:
              max_tokens: 4
              stop: ["\n"]
              temperature: 0
              seed: 0
            scorers:
              - name: numeric
                args: { tolerance: 0 }
            requirement:
              min_pass_rate: 0.9
              confidence: 0.95
            """);
        var lines = new StringBuilder();
        for (int i = 0; i < 20; i++)
        {
            // Items 00..07 fit; 08..19 carry a preamble that overflows the context.
            string preamble = i < 8 ? "" : string.Concat(Enumerable.Repeat("12+45=57\n", 70));
            lines.Append(JsonSerializer.Serialize(new { id = $"{i:D2}", preamble, a = i, b = 1, target = $"{i + 1}" })).Append('\n');
        }

        await File.WriteAllTextAsync(Path.Combine(suite, "items.jsonl"), lines.ToString());
        await File.WriteAllTextAsync(Path.Combine(ws.Root, "small-context.manifest"), """
            version: 1
            defaults: { context_size: 256, threads: 1, batch_size: 256, gpu_layers: 0, chat_template: none }
            models:
              - { id: tiny, path: models/tiny-bigram.gguf }
            """);

        var run = await HarnessProcess.RunAsync(ws.Root, Timeout, "run", "--models", "small-context.manifest", "--suite", "tasks-long/long");

        Assert.True(run.ExitCode == 4, $"exit {run.ExitCode}: {run.Output}{run.Error}");
        // The console wraps at its own width when redirected: compare with every run of whitespace as one space.
        var console = System.Text.RegularExpressions.Regex.Replace(run.Output, @"\s+", " ");
        Assert.True(console.Contains("error tiny on long: 12 of 20 items not evaluated (contextOverflow, not the model's answer)", StringComparison.Ordinal), run.Output);
        Assert.Matches("the prompt has [0-9]+ tokens but the context size is 256", console);
        Assert.DoesNotContain("insufficient", console, StringComparison.Ordinal);
        Assert.Contains("long (bar", console, StringComparison.Ordinal);
        Assert.Contains("no verdict: items that say nothing about the answers failed for tiny (error; see the coverage)", console, StringComparison.Ordinal);

        var dir = ws.SingleRunDirectory();
        var store = await SqliteRunStore.OpenAsync(dir, CancellationToken.None);
        await using (store)
        {
            var items = new List<ItemRecord>();
            await foreach (var item in store.ReadItemsAsync(CancellationToken.None))
            {
                items.Add(item);
            }

            Assert.Equal(12, items.Count(i => i.Failure == ItemFailureKind.ContextOverflow));
            Assert.Equal(8, items.Count(i => i.Status == ItemStatus.Scored));
        }

        var markdown = await File.ReadAllTextAsync(Path.Combine(dir, "report.md"));
        Assert.Contains("- **error**: tiny on long: 12 of 20 items not evaluated (contextOverflow", markdown, StringComparison.Ordinal);
        Assert.Contains("| **error** | 8 scored, 12 errored of 20 |", markdown, StringComparison.Ordinal);
        Assert.DoesNotContain("**insufficient**", markdown, StringComparison.Ordinal);
        Assert.Matches("the prompt has [0-9]+ tokens but the context size is 256", markdown);
        Assert.Contains("<span class=\"error\">error</span>: <b>tiny</b> on <b>long</b>", await File.ReadAllTextAsync(Path.Combine(dir, "report.html")), StringComparison.Ordinal);
        using var json = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(dir, "report.json")));
        var verdict = json.RootElement.GetProperty("fixedSuites")[0].GetProperty("rows")[0].GetProperty("verdict");
        Assert.Equal("error", verdict.GetProperty("kind").GetString());
        Assert.Equal(12, verdict.GetProperty("coverage").GetProperty("errored").GetInt32());

        // Rebuilding the reports says the same, exit code included.
        var rebuilt = await HarnessProcess.RunAsync(ws.Root, Timeout, "report", dir);
        Assert.True(rebuilt.ExitCode == 4, $"exit {rebuilt.ExitCode}: {rebuilt.Output}{rebuilt.Error}");
    }
}
