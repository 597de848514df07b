using System.Buffers;
using System.Text;
using System.Text.RegularExpressions;
using System.Text.Unicode;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Harness.Core.Serialization.Yaml;

/// <summary>Receives one problem in the file being read: the 1-based line where known, and what is wrong.</summary>
public delegate void YamlProblemSink(int? line, string problem);

/// <summary>
/// Reads the harness's YAML files (models.manifest, suite.yaml) the one way: strict UTF-8 (a UTF-8 byte-order mark is
/// allowed and dropped; invalid bytes and UTF-16 are errors with their line), a single document, no duplicate keys,
/// no tags. The rules are in docs/yaml.md.
/// </summary>
public static partial class YamlSource
{
    private static readonly byte[] Utf8Bom = [0xEF, 0xBB, 0xBF];

    /// <summary>
    /// The text of a file that must be UTF-8, without a leading byte-order mark; null after reporting the line of
    /// the first invalid byte.
    /// </summary>
    public static string? DecodeUtf8(ReadOnlySpan<byte> bytes, YamlProblemSink report)
    {
        ArgumentNullException.ThrowIfNull(report);
        if (bytes.StartsWith(Utf8Bom))
        {
            bytes = bytes[Utf8Bom.Length..];
        }
        else if (bytes.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE]) || bytes.StartsWith((ReadOnlySpan<byte>)[0xFE, 0xFF]))
        {
            report(1, "the file is UTF-16; save it as UTF-8");
            return null;
        }

        var chars = ArrayPool<char>.Shared.Rent(bytes.Length + 1);
        try
        {
            var status = Utf8.ToUtf16(bytes, chars, out var bytesRead, out var charsWritten, replaceInvalidSequences: false);
            if (status != OperationStatus.Done)
            {
                var line = bytes[..bytesRead].Count((byte)'\n') + 1;
                report(line, $"not valid UTF-8: byte 0x{bytes[bytesRead]:X2} at byte offset {bytesRead} cannot be decoded; save the file as UTF-8");
                return null;
            }

            return new string(chars, 0, charsWritten);
        }
        finally
        {
            ArrayPool<char>.Shared.Return(chars);
        }
    }

    /// <summary>
    /// The root node of the single YAML document in <paramref name="bytes"/>; null when the file is empty (nothing
    /// reported, callers say what belongs there) or after reporting why it cannot be read.
    /// </summary>
    public static YamlNode? Load(ReadOnlySpan<byte> bytes, YamlProblemSink report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var text = DecodeUtf8(bytes, report);
        if (text is null)
        {
            return null;
        }

        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException ex)
        {
            report(checked((int)ex.Start.Line), Explain(ex));
            return null;
        }

        if (stream.Documents.Count == 0)
        {
            return null;
        }

        if (stream.Documents.Count > 1)
        {
            report(checked((int)stream.Documents[1].RootNode.Start.Line), "the file must hold a single YAML document (found a second '---')");
            return null;
        }

        var root = stream.Documents[0].RootNode;
        return RefuseTags(root, report) ? root : null;
    }

    /// <summary>
    /// The values of a mapping's keys, in file order; each key that is not text or not in <paramref name="allowed"/>
    /// goes to <paramref name="unknown"/> (with the key's node, for its line, and its text) and is left out.
    /// </summary>
    public static Dictionary<string, YamlNode> Keys(YamlMappingNode mapping, IReadOnlyCollection<string> allowed, Action<YamlNode, string> unknown)
    {
        ArgumentNullException.ThrowIfNull(mapping);
        ArgumentNullException.ThrowIfNull(unknown);
        var result = new Dictionary<string, YamlNode>(StringComparer.Ordinal);
        foreach (var (keyNode, valueNode) in mapping.Children)
        {
            if (keyNode is not YamlScalarNode { Value: { } key } || !allowed.Contains(key, StringComparer.Ordinal))
            {
                unknown(keyNode, YamlScalars.Text(keyNode) ?? YamlScalars.Describe(keyNode));
                continue;
            }

            result[key] = valueNode;
        }

        return result;
    }

    /// <summary>The 1-based line a node starts on.</summary>
    public static int LineOf(YamlNode node)
    {
        ArgumentNullException.ThrowIfNull(node);
        return checked((int)node.Start.Line);
    }

    // Tags would let a file choose its own types (or, in other loaders, code); files here are data with one meaning.
    private static bool RefuseTags(YamlNode node, YamlProblemSink report)
    {
        if (!node.Tag.IsEmpty && !node.Tag.IsNonSpecific)
        {
            report(LineOf(node), $"YAML tags ({node.Tag}) are not supported; write the value itself");
            return false;
        }

        return node switch
        {
            YamlSequenceNode sequence => sequence.Children.All(child => RefuseTags(child, report)),
            YamlMappingNode mapping => mapping.Children.All(pair => RefuseTags(pair.Key, report) && RefuseTags(pair.Value, report)),
            _ => true,
        };
    }

    /// <summary>YamlDotNet's message without its "(Line: .., Col: ..)" prefix (we give the line ourselves), in our words where we can.</summary>
    private static string Explain(YamlException ex)
    {
        // YamlDotNet puts the useful sentence in the inner exception for some errors and in the outer for others.
        var message = MarkPrefix().Replace((ex.InnerException ?? ex).Message, string.Empty);
        var duplicate = DuplicateKey().Match(MarkPrefix().Replace(ex.Message, string.Empty));
        if (!duplicate.Success)
        {
            duplicate = DuplicateKey().Match(message);
        }

        return duplicate.Success
            ? $"duplicate key '{duplicate.Groups[1].Value}' (each key may appear once in a mapping)"
            : $"not valid YAML: {message}";
    }

    [GeneratedRegex(@"^\(Line: [^)]*\) - \(Line: [^)]*\): ", RegexOptions.CultureInvariant)]
    private static partial Regex MarkPrefix();

    [GeneratedRegex("^Duplicate key (.*)$", RegexOptions.CultureInvariant | RegexOptions.Singleline)]
    private static partial Regex DuplicateKey();
}
