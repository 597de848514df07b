using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Harness.Core.Serialization;
using Harness.Core.Serialization.Yaml;
using Harness.Core.Suites;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace Harness.Core.Models;

/// <summary>A model entry to write into a manifest. Values are written as the text given.</summary>
/// <param name="Path">Relative to the manifest's folder, with <c>/</c> separators.</param>
/// <param name="Backend">Backend settings (key, value) to write as a <c>backend:</c> mapping; empty writes none.</param>
public sealed record NewManifestEntry(
    string Id,
    string Path,
    ModelFormat Format,
    string? Description,
    ImmutableArray<KeyValuePair<string, string>> Backend,
    ImmutableArray<KeyValuePair<string, string>> Metadata);

/// <summary>What <see cref="ManifestEditor.AddOrReplace"/> wrote.</summary>
/// <param name="Manifest">The manifest as loaded back from the written file.</param>
/// <param name="Replaced">True when an entry with the same id was replaced, false when the entry was appended.</param>
public sealed record ManifestEditResult(ModelManifest Manifest, bool Replaced);

/// <summary>The manifest was left unchanged; <see cref="EntryText"/> is the entry to add by hand.</summary>
public sealed class ManifestEditException(string filePath, int? line, string problem, string entryText)
    : Exception(line is null ? $"{filePath}: {problem}" : $"{filePath}:{line}: {problem}")
{
    public string FilePath { get; } = filePath;
    public int? Line { get; } = line;
    public string Problem { get; } = problem;

    /// <summary>The entry as YAML lines for the <c>models:</c> list, indented by two spaces.</summary>
    public string EntryText { get; } = entryText;
}

/// <summary>
/// Adds an entry to the end of a manifest's <c>models:</c> list, or replaces the entry with the same id, by editing
/// the text: users comment and lay out their manifests, and a YAML serializer would drop all of that. The edit is
/// refused (nothing written) unless the result reads back as exactly the old entries plus the new one.
/// </summary>
public sealed partial class ManifestEditor(ManifestLoader loader)
{
    private const int DefaultDashColumn = 2;

    /// <summary>The entry as it would be written into a list whose items start with <c>"  - "</c>.</summary>
    public static string Render(NewManifestEntry entry) =>
        string.Join('\n', RenderLines(entry, DefaultDashColumn, DefaultDashColumn + 2)) + "\n";

    /// <summary>
    /// The <c>backend:</c> settings written in entry <paramref name="id"/> itself (not the merged defaults), in file
    /// order; empty when it has none.
    /// </summary>
    /// <exception cref="InputFileException">The text is not a loadable manifest.</exception>
    public ImmutableArray<KeyValuePair<string, string>> ExplicitBackend(string text, string filePath, string id)
    {
        loader.Parse(text, filePath);
        var item = Locate(text).Items.FirstOrDefault(i => IdOf(i) == id);
        if (item is null || !item.Children.TryGetValue(new YamlScalarNode("backend"), out var backend) || backend is not YamlMappingNode mapping)
        {
            return [];
        }

        return
        [
            .. mapping.Children
                .Where(c => c.Key is YamlScalarNode && c.Value is YamlScalarNode value && !YamlScalars.IsNull(value))
                .Select(c => new KeyValuePair<string, string>(((YamlScalarNode)c.Key).Value!, ((YamlScalarNode)c.Value).Value!)),
        ];
    }

    /// <summary>
    /// The manifest text with <paramref name="entry"/> appended to the <c>models:</c> list, or put in place of the
    /// entry with the same id. Comments, blank lines and the layout of everything else are kept byte for byte.
    /// </summary>
    /// <exception cref="ManifestEditException">
    /// The text does not load, <c>models:</c> is not the last top-level key or not a block list, or the edited
    /// text would not read back as the old entries plus this one.
    /// </exception>
    public (string Text, bool Replaced) Edit(string text, string filePath, NewManifestEntry entry)
    {
        var fullPath = Path.GetFullPath(filePath);
        ModelManifest before;
        try
        {
            before = loader.Parse(text, fullPath);
        }
        catch (InputFileException ex)
        {
            throw Refuse(fullPath, ex.Line, $"the manifest does not load ({ex.Problem}), so the entry was not added", entry);
        }

        var newline = text.Contains("\r\n", StringComparison.Ordinal) ? "\r\n" : "\n";
        var endsWithNewline = text.EndsWith('\n');
        var lines = text.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        if (endsWithNewline)
        {
            lines.RemoveAt(lines.Count - 1);
        }

        var list = Locate(text);
        if (list.Problem is { } problem)
        {
            throw Refuse(fullPath, problem.Line, problem.Text, entry);
        }

        // Each item runs from its '-' line to the line before the next item's, less trailing blank and comment
        // lines: a comment above an entry belongs to that entry, so it stays where it is.
        var dashLines = new List<int>();
        var dashColumn = -1;
        foreach (var item in list.Items)
        {
            var (line, column) = FindDash(lines, item);
            if (line < 0 || (dashColumn >= 0 && column != dashColumn))
            {
                throw Refuse(fullPath, checked((int)item.Start.Line), "cannot find the '-' that starts this entry at the list's indentation, so the list cannot be edited as text", entry);
            }

            dashLines.Add(line);
            dashColumn = column;
        }

        var keyColumn = list.Items.FirstOrDefault(i => i.Style != MappingStyle.Flow) is { } block
            ? checked((int)block.Start.Column - 1)
            : dashColumn + 2;
        var ends = new List<int>();
        for (var i = 0; i < dashLines.Count; i++)
        {
            var end = i + 1 < dashLines.Count ? dashLines[i + 1] - 1 : lines.Count - 1;
            while (end > dashLines[i] && IsBlankOrComment(lines[end]))
            {
                end--;
            }

            ends.Add(end);
        }

        for (var l = dashLines[0]; l <= ends[^1]; l++)
        {
            var content = lines[l].TrimStart(' ');
            var indent = lines[l].Length - content.Length;
            if (!IsBlankOrComment(lines[l]) && indent <= dashColumn && !(indent == dashColumn && content.StartsWith('-')))
            {
                throw Refuse(fullPath, l + 1, "unexpected text at the indentation of the models list, so the end of the list cannot be found", entry);
            }
        }

        var rendered = RenderLines(entry, dashColumn, keyColumn);
        var existing = list.Items.FindIndex(i => IdOf(i) == entry.Id);
        if (existing >= 0)
        {
            lines.RemoveRange(dashLines[existing], ends[existing] - dashLines[existing] + 1);
            lines.InsertRange(dashLines[existing], rendered);
        }
        else
        {
            lines.InsertRange(ends[^1] + 1, rendered);
        }

        // A file without a final newline gets one only when the entry became its last line.
        var appendedAtEnd = existing < 0 && ends[^1] + rendered.Count == lines.Count - 1;
        var edited = string.Join(newline, lines) + (endsWithNewline || appendedAtEnd ? newline : "");
        Verify(before, edited, fullPath, entry, existing >= 0);
        return (edited, existing >= 0);
    }

    /// <summary>
    /// Adds or replaces <paramref name="entry"/> in the manifest file (see <see cref="Edit"/>). The new text goes to a
    /// temporary file beside the manifest, is loaded back, and only then replaces the manifest; on any failure the
    /// manifest is untouched and the temporary file removed.
    /// </summary>
    /// <exception cref="ManifestEditException">The edit was refused or would not load; the manifest is unchanged.</exception>
    /// <exception cref="InputFileException">The manifest cannot be read.</exception>
    public ManifestEditResult AddOrReplace(string manifestPath, NewManifestEntry entry)
    {
        var fullPath = Path.GetFullPath(manifestPath);
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(fullPath);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new InputFileException(fullPath, null, $"cannot read the manifest: {ex.Message}");
        }

        ReadOnlySpan<byte> bom = [0xEF, 0xBB, 0xBF];
        var hasBom = bytes.AsSpan().StartsWith(bom);
        // Strict, as the loader reads it: a lenient decode would write replacement characters back into the file.
        var text = YamlSource.DecodeUtf8(bytes, (line, problem) => throw new InputFileException(fullPath, line, problem))!;
        var (edited, replaced) = Edit(text, fullPath, entry);

        var temporary = AtomicFile.TemporaryPathFor(fullPath);
        try
        {
            var body = Encoding.UTF8.GetBytes(edited);
            File.WriteAllBytes(temporary, hasBom ? [.. bom, .. body] : body);
            var check = loader.Validate(temporary);
            if (!check.IsValid)
            {
                var first = check.Errors[0];
                throw Refuse(fullPath, null, $"the edited manifest did not load back ({first.Problem}, line {first.Line}); the manifest was left unchanged", entry);
            }

            AtomicFile.Commit(temporary, fullPath);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw Refuse(fullPath, null, $"cannot write the manifest ({ex.Message}); it was left unchanged", entry);
        }
        finally
        {
            File.Delete(temporary);
        }

        return new ManifestEditResult(loader.Load(fullPath), replaced);
    }

    private void Verify(ModelManifest before, string edited, string fullPath, NewManifestEntry entry, bool replaced)
    {
        ModelManifest after;
        try
        {
            after = loader.Parse(edited, fullPath);
        }
        catch (InputFileException ex)
        {
            throw Refuse(fullPath, null, $"with this entry the manifest would not load ({ex.Problem}); it was left unchanged", entry);
        }

        var others = before.Models.Where(m => m.Id != entry.Id).ToList();
        var othersAfter = after.Models.Where(m => m.Id != entry.Id).ToList();
        var added = after.Models.Where(m => m.Id == entry.Id).ToList();
        var expectedIndex = replaced ? before.Models.IndexOf(before.Models.First(m => m.Id == entry.Id)) : after.Models.Length - 1;
        var same = others.Count == othersAfter.Count
            && others.Zip(othersAfter).All(p => SameEntry(p.First, p.Second))
            && added.Count == 1
            && after.Models.IndexOf(added[0]) == expectedIndex
            && added[0].Source == new ModelSource(entry.Path, null, null)
            && added[0].Format == entry.Format
            && added[0].Description == entry.Description
            && added[0].Metadata.SequenceEqual(entry.Metadata.OrderBy(m => m.Key, StringComparer.Ordinal));
        if (!same)
        {
            throw Refuse(fullPath, null, "the edited text did not read back as the old entries plus this one, so it was not written", entry);
        }
    }

    private static bool SameEntry(ModelEntry a, ModelEntry b) =>
        a.Id == b.Id && a.Format == b.Format && a.Source == b.Source && a.Backend == b.Backend
        && a.Description == b.Description && a.Metadata.SequenceEqual(b.Metadata);

    private static ManifestEditException Refuse(string fullPath, int? line, string problem, NewManifestEntry entry) =>
        new(fullPath, line, problem, Render(entry));

    private sealed record ModelsList(List<YamlMappingNode> Items, (int? Line, string Text)? Problem);

    /// <summary>The items of the <c>models:</c> block list, or why the list cannot be edited as text.</summary>
    private static ModelsList Locate(string text)
    {
        // Only called on text the loader has accepted, so the shared reader finds the same single mapping.
        var root = (YamlMappingNode)YamlSource.Load(
            Encoding.UTF8.GetBytes(text),
            (line, problem) => throw new InvalidOperationException($"line {line}: {problem}"))!;
        var keys = root.Children.ToList();
        var index = keys.FindIndex(k => k.Key is YamlScalarNode { Value: "models" });
        var (modelsKey, modelsValue) = keys[index];
        var items = ((YamlSequenceNode)modelsValue).Children.OfType<YamlMappingNode>().ToList();
        if (index != keys.Count - 1)
        {
            var next = keys[index + 1].Key;
            return new(items, (checked((int)next.Start.Line),
                $"'models:' is not the last top-level key ('{(next as YamlScalarNode)?.Value}' follows it), so an entry cannot be appended at the end of the file; move 'models:' to the end"));
        }

        if (((YamlSequenceNode)modelsValue).Style == SequenceStyle.Flow)
        {
            return new(items, (checked((int)modelsKey.Start.Line), "'models' is a flow list ([...]); write it as a block list ('- id: ...' lines) so entries can be added as text"));
        }

        return new(items, null);
    }

    private static string? IdOf(YamlMappingNode item) =>
        item.Children.TryGetValue(new YamlScalarNode("id"), out var id) ? (id as YamlScalarNode)?.Value : null;

    /// <summary>The 0-based line and column of the <c>-</c> before <paramref name="item"/>, or (-1, -1).</summary>
    private static (int Line, int Column) FindDash(List<string> lines, YamlMappingNode item)
    {
        var line = checked((int)item.Start.Line - 1);
        var text = lines[line];
        var column = checked((int)item.Start.Column - 2);
        while (column >= 0 && text[column] == ' ')
        {
            column--;
        }

        return column >= 0 && text[column] == '-' && text[..column].All(c => c == ' ') ? (line, column) : (-1, -1);
    }

    private static bool IsBlankOrComment(string line)
    {
        var trimmed = line.TrimStart(' ', '\t');
        return trimmed.Length == 0 || trimmed[0] == '#';
    }

    private static List<string> RenderLines(NewManifestEntry entry, int dashColumn, int keyColumn)
    {
        var dash = new string(' ', dashColumn) + "-" + new string(' ', Math.Max(1, keyColumn - dashColumn - 1));
        var key = new string(' ', Math.Max(keyColumn, dashColumn + 2));
        var lines = new List<string>
        {
            $"{dash}id: {Scalar(entry.Id)}",
            $"{key}path: {Scalar(entry.Path)}",
            $"{key}format: {FormatName(entry.Format)}",
        };
        if (entry.Description is not null)
        {
            lines.Add($"{key}description: {Quoted(entry.Description)}");
        }

        if (!entry.Backend.IsEmpty)
        {
            lines.Add($"{key}backend: {{ {string.Join(", ", entry.Backend.Select(b => $"{b.Key}: {Scalar(b.Value)}"))} }}");
        }

        if (!entry.Metadata.IsEmpty)
        {
            lines.Add($"{key}metadata:");
            lines.AddRange(entry.Metadata.Select(m => $"{key}  {m.Key}: {Scalar(m.Value)}"));
        }

        return lines;
    }

    // The editor writes models with a local file or folder; a served model (backend.kind openai) has no path to write.
    private static string FormatName(ModelFormat format) => format switch
    {
        ModelFormat.Gguf => "gguf",
        ModelFormat.Onnx => "onnx",
        _ => throw new ArgumentException($"an entry with a path is gguf or onnx, not {format}", nameof(format)),
    };

    /// <summary>Plain when YAML reads it back as the same text in block and flow context, else double-quoted.</summary>
    private static string Scalar(string value) =>
        PlainSafe().IsMatch(value) && !Reserved.Contains(value) ? value : Quoted(value);

    private static readonly HashSet<string> Reserved = new(StringComparer.OrdinalIgnoreCase)
    {
        "null", "true", "false", "yes", "no", "on", "off", "y", "n",
    };

    private static string Quoted(string value)
    {
        var text = new StringBuilder("\"");
        foreach (var c in value)
        {
            text.Append(c switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\n' => "\\n",
                '\t' => "\\t",
                '\r' => "\\r",
                _ when char.IsControl(c) => string.Create(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}"),
                _ => c.ToString(),
            });
        }

        return text.Append('"').ToString();
    }

    // No spaces, no flow indicators, no ':' at the end (that would read as a key).
    [GeneratedRegex(@"^[A-Za-z0-9_./]([A-Za-z0-9_./:+-]*[A-Za-z0-9_./+-])?$", RegexOptions.CultureInvariant)]
    private static partial Regex PlainSafe();
}
