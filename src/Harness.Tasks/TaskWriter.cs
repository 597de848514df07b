using System.Collections.Immutable;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Harness.Core.Serialization;
using Harness.Core.Suites;
using Harness.Tasks.Generators;

namespace Harness.Tasks;

/// <summary>
/// Writes generated suites to <c>tasks/&lt;suite&gt;/</c> byte for byte the same on every machine: UTF-8 without
/// BOM, LF line endings, invariant culture. The committed tasks/ folder is its output.
/// </summary>
public static class TaskWriter
{
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);

    private static readonly JsonWriterOptions JsonOptions = new()
    {
        // Plain-ASCII data stays readable: the default encoder would write '"' and '+' as \u0022 and \u002B.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Indented = false,
    };

    /// <summary>The generators of the suites shipped in tasks/.</summary>
    public static ImmutableArray<ITaskGenerator> Generators() =>
        [new ArithGenerator(), new DatesGenerator(), new JsonExtractGenerator(), new ReverseGenerator(), new SentimentGenerator()];

    /// <summary>Seed of the reference text's draws; the forge recipes train on other seeds' draws.</summary>
    public const int ReferenceSeed = 9_001;

    /// <summary>Documents per task in the reference text.</summary>
    public const int ReferenceDocumentsPerTask = 30;

    /// <summary>Writes every shipped suite and the perplexity reference under <paramref name="tasksDirectory"/>, overwriting their files.</summary>
    public static void WriteAll(string tasksDirectory)
    {
        foreach (var generator in Generators())
        {
            Write(generator, tasksDirectory);
        }

        AtomicFile.WriteAllBytes(Path.Combine(tasksDirectory, Harness.Core.Comparison.ReferenceText.DefaultFileName), Utf8.GetBytes(ReferenceText()));
    }

    /// <summary>
    /// The perplexity reference of <c>harness compare</c>: examples of every task in the format the tasks use, drawn
    /// like training data (never an evaluation item), one document per blank-line separated block.
    /// </summary>
    public static string ReferenceText()
    {
        var text = new StringBuilder();
        foreach (var generator in Generators())
        {
            foreach (var example in generator.GenerateTraining(ReferenceSeed, ReferenceDocumentsPerTask))
            {
                text.Append(example.Text.TrimEnd('\n')).Append("\n\n");
            }
        }

        return text.ToString();
    }

    /// <summary>Writes one suite's folder: suite.yaml, items.jsonl and any extra files.</summary>
    public static void Write(ITaskGenerator generator, string tasksDirectory)
    {
        var directory = Path.Combine(tasksDirectory, generator.Definition.Name);
        Directory.CreateDirectory(directory);
        foreach (var (name, bytes) in RenderFiles(generator))
        {
            AtomicFile.WriteAllBytes(Path.Combine(directory, name), bytes);
        }
    }

    /// <summary>File name to exact bytes of one suite folder.</summary>
    public static ImmutableSortedDictionary<string, byte[]> RenderFiles(ITaskGenerator generator) =>
        RenderFiles(generator.Definition, generator.GenerateEvaluation(), SuiteYamlWriter.GeneratedHeader);

    /// <summary>File name to exact bytes of a suite folder made from a definition and its items (e.g. a catalogue recipe's).</summary>
    /// <param name="header">suite.yaml's one-line leading comment: where the suite comes from and what to change instead of the file.</param>
    public static ImmutableSortedDictionary<string, byte[]> RenderFiles(SuiteDefinition definition, IEnumerable<SuiteItem> items, string header)
    {
        var files = ImmutableSortedDictionary.CreateBuilder<string, byte[]>(StringComparer.Ordinal);
        files[SuiteLoader.SuiteFileName] = Utf8.GetBytes(SuiteYamlWriter.Write(definition, header));
        files[SuiteLoader.ItemsFileName] = Utf8.GetBytes(ItemsJsonl(items));
        foreach (var (name, text) in definition.ExtraFiles)
        {
            files[name] = Utf8.GetBytes(text.ReplaceLineEndings("\n"));
        }
        return files.ToImmutable();
    }

    /// <summary>One JSON object per line: id, the fields in ordinal order, target, choices.</summary>
    internal static string ItemsJsonl(IEnumerable<SuiteItem> items)
    {
        var text = new StringBuilder();
        foreach (var item in items)
        {
            using var stream = new MemoryStream();
            using (var writer = new Utf8JsonWriter(stream, JsonOptions))
            {
                writer.WriteStartObject();
                writer.WriteString("id", item.Id);
                foreach (var (name, value) in item.Fields)
                {
                    writer.WritePropertyName(name);
                    value.WriteTo(writer);
                }
                if (item.Target is not null)
                {
                    writer.WriteString("target", item.Target);
                }
                if (!item.Choices.IsDefaultOrEmpty)
                {
                    writer.WriteStartArray("choices");
                    foreach (var choice in item.Choices)
                    {
                        writer.WriteStringValue(choice);
                    }
                    writer.WriteEndArray();
                }
                writer.WriteEndObject();
            }
            text.Append(Utf8.GetString(stream.ToArray())).Append('\n');
        }
        return text.ToString();
    }
}
