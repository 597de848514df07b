using System.Buffers;
using System.Globalization;
using System.Numerics;
using System.Text.Json;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Harness.Core.Serialization.Yaml;

/// <summary>What a YAML scalar means under the YAML 1.2 core schema.</summary>
public enum YamlScalarKind
{
    /// <summary>Plain <c>null</c>, <c>Null</c>, <c>NULL</c>, <c>~</c> or nothing at all.</summary>
    Null,

    /// <summary>Plain <c>true</c>/<c>True</c>/<c>TRUE</c>/<c>false</c>/<c>False</c>/<c>FALSE</c>.</summary>
    Boolean,

    /// <summary>Plain decimal (<c>-12</c>, <c>+7</c>, <c>007</c>), octal (<c>0o17</c>) or hexadecimal (<c>0x1F</c>) integer.</summary>
    WholeNumber,

    /// <summary>Plain decimal number with a fraction or exponent (<c>0.5</c>, <c>1e-3</c>, <c>.5</c>), or <c>.inf</c>/<c>.nan</c>.</summary>
    Real,

    /// <summary>Everything else, and every quoted or block (<c>|</c>, <c>&gt;</c>) scalar whatever its text.</summary>
    Text,
}

/// <summary>
/// The one meaning of a YAML scalar for every harness file (docs/yaml.md): the YAML 1.2 core schema for plain
/// scalars, and quoting always makes text. So <c>NULL</c> is null everywhere, and <c>"5"</c> is the text 5, which is
/// refused where a number is required.
/// </summary>
public static partial class YamlScalars
{
    /// <summary>The core-schema kind of a scalar node.</summary>
    public static YamlScalarKind Resolve(YamlScalarNode node)
    {
        ArgumentNullException.ThrowIfNull(node);
        return node.Style is ScalarStyle.Plain or ScalarStyle.Any ? ResolvePlain(node.Value ?? string.Empty) : YamlScalarKind.Text;
    }

    /// <summary>The core-schema kind of <paramref name="text"/> written as a plain scalar.</summary>
    public static YamlScalarKind ResolvePlain(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return text switch
        {
            "" or "~" or "null" or "Null" or "NULL" => YamlScalarKind.Null,
            "true" or "True" or "TRUE" or "false" or "False" or "FALSE" => YamlScalarKind.Boolean,
            _ when CoreInteger().IsMatch(text) => YamlScalarKind.WholeNumber,
            _ when CoreFloat().IsMatch(text) => YamlScalarKind.Real,
            _ => YamlScalarKind.Text,
        };
    }

    /// <summary>True for a null scalar: a key written with no value, <c>~</c> or any spelling of plain <c>null</c>.</summary>
    public static bool IsNull(YamlNode node) => node is YamlScalarNode scalar && Resolve(scalar) == YamlScalarKind.Null;

    /// <summary>
    /// A scalar's text as written, for settings that are text (ids, paths, templates): <c>id: 007</c> is "007".
    /// Null for a null scalar, a list or a mapping.
    /// </summary>
    public static string? Text(YamlNode node) =>
        node is YamlScalarNode scalar && !IsNull(scalar) ? scalar.Value ?? string.Empty : null;

    /// <summary>True when the node is a plain integer (core schema) that fits an <see cref="int"/>.</summary>
    public static bool TryGetInt32(YamlNode node, out int value)
    {
        value = 0;
        if (node is not YamlScalarNode scalar || Resolve(scalar) != YamlScalarKind.WholeNumber || !TryParseInteger(scalar.Value!, out var big)
            || big < int.MinValue || big > int.MaxValue)
        {
            return false;
        }

        value = (int)big;
        return true;
    }

    /// <summary>True when the node is a plain, finite number (a core-schema integer or float).</summary>
    public static bool TryGetDouble(YamlNode node, out double value)
    {
        value = 0;
        if (node is not YamlScalarNode scalar)
        {
            return false;
        }

        switch (Resolve(scalar))
        {
            case YamlScalarKind.WholeNumber when TryParseInteger(scalar.Value!, out var big):
                value = (double)big;
                return true;
            case YamlScalarKind.Real when !scalar.Value!.Contains("inf", StringComparison.OrdinalIgnoreCase)
                                           && !scalar.Value.Contains("nan", StringComparison.OrdinalIgnoreCase):
                value = double.Parse(scalar.Value, NumberStyles.Float, CultureInfo.InvariantCulture);
                return double.IsFinite(value);
            default:
                return false;
        }
    }

    /// <summary>
    /// The node for an error message: <c>'lots'</c>, <c>the quoted text "5"</c> (with a hint that quotes make
    /// text), <c>a list</c>, <c>a mapping</c>.
    /// </summary>
    public static string Describe(YamlNode node) => node switch
    {
        YamlScalarNode { Style: ScalarStyle.Plain or ScalarStyle.Any } plain => $"'{plain.Value}'",
        YamlScalarNode quoted => $"the quoted text \"{quoted.Value}\" (quotes make a value text; write a number or a keyword without them)",
        YamlSequenceNode => "a list",
        YamlMappingNode => "a mapping",
        _ => node?.ToString() ?? "nothing",
    };

    /// <summary>
    /// The node as JSON, typed by <see cref="Resolve"/>: null, booleans and numbers typed (numbers written in
    /// JSON's own syntax), every other scalar a string. Null after reporting a value JSON cannot hold (<c>.inf</c>,
    /// <c>.nan</c>) or a key that is not text.
    /// </summary>
    public static JsonElement? ToJson(YamlNode node, string where, YamlProblemSink report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            if (!WriteJson(writer, node, where, report))
            {
                return null;
            }
        }

        using var document = JsonDocument.Parse(buffer.WrittenMemory);
        return document.RootElement.Clone();
    }

    private static bool WriteJson(Utf8JsonWriter writer, YamlNode node, string where, YamlProblemSink report)
    {
        switch (node)
        {
            case YamlScalarNode scalar:
                var text = scalar.Value ?? string.Empty;
                switch (Resolve(scalar))
                {
                    case YamlScalarKind.Null:
                        writer.WriteNullValue();
                        return true;
                    case YamlScalarKind.Boolean:
                        writer.WriteBooleanValue(text.Equals("true", StringComparison.OrdinalIgnoreCase));
                        return true;
                    case YamlScalarKind.WholeNumber when TryParseInteger(text, out var big):
                        writer.WriteRawValue(big.ToString(CultureInfo.InvariantCulture));
                        return true;
                    case YamlScalarKind.Real when JsonNumber().IsMatch(text):
                        writer.WriteRawValue(text);
                        return true;
                    case YamlScalarKind.Real when TryGetDouble(scalar, out var number):
                        writer.WriteNumberValue(number);
                        return true;
                    case YamlScalarKind.Real:
                        report(YamlSource.LineOf(node), $"{where}: '{text}' is not a finite number, which JSON cannot hold; quote it to mean the text");
                        // A placeholder keeps the JSON well formed while the other values are still checked.
                        writer.WriteNullValue();
                        return false;
                    default:
                        writer.WriteStringValue(text);
                        return true;
                }

            case YamlSequenceNode sequence:
                writer.WriteStartArray();
                var ok = true;
                for (var i = 0; i < sequence.Children.Count; i++)
                {
                    ok &= WriteJson(writer, sequence.Children[i], string.Create(CultureInfo.InvariantCulture, $"{where}[{i}]"), report);
                }

                writer.WriteEndArray();
                return ok;
            case YamlMappingNode mapping:
                writer.WriteStartObject();
                var allOk = true;
                foreach (var (key, value) in mapping.Children)
                {
                    if (key is not YamlScalarNode { Value: { } name })
                    {
                        report(YamlSource.LineOf(key), $"{where}: mapping keys must be text");
                        allOk = false;
                        continue;
                    }

                    writer.WritePropertyName(name);
                    allOk &= WriteJson(writer, value, $"{where}.{name}", report);
                }

                writer.WriteEndObject();
                return allOk;
            default:
                report(YamlSource.LineOf(node), $"{where}: unsupported YAML node");
                writer.WriteNullValue();
                return false;
        }
    }

    private static bool TryParseInteger(string text, out BigInteger value)
    {
        var negative = text.StartsWith('-');
        var digits = text.TrimStart('+', '-');
        bool parsed;
        if (digits.StartsWith("0x", StringComparison.Ordinal))
        {
            // A leading 0 keeps the hexadecimal parse from reading the top bit as a sign.
            parsed = BigInteger.TryParse("0" + digits[2..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value);
        }
        else if (digits.StartsWith("0o", StringComparison.Ordinal))
        {
            value = digits[2..].Aggregate(BigInteger.Zero, (sum, digit) => (sum * 8) + (digit - '0'));
            parsed = true;
        }
        else
        {
            parsed = BigInteger.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out value);
        }

        if (negative)
        {
            value = -value;
        }

        return parsed;
    }

    [GeneratedRegex("^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", RegexOptions.CultureInvariant)]
    private static partial Regex CoreInteger();

    [GeneratedRegex(@"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$", RegexOptions.CultureInvariant)]
    private static partial Regex CoreFloat();

    [GeneratedRegex(@"^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$", RegexOptions.CultureInvariant)]
    private static partial Regex JsonNumber();
}
