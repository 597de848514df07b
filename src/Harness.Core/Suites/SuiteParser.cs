using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Harness.Core.Serialization.Yaml;
using YamlDotNet.RepresentationModel;

namespace Harness.Core.Suites;

/// <summary>
/// One pass over a suite folder that keeps going after a problem, so <c>harness validate</c> can list every
/// error at once. Instances are single-use.
/// </summary>
internal sealed partial class SuiteParser
{
    internal sealed record Result(Suite? Suite, ImmutableArray<InputFileException> Errors, ImmutableArray<ScorerSite> Scorers);

    /// <summary>A scorer spec with the line it was declared on, so scorer-argument errors can point at it.</summary>
    internal sealed record ScorerSite(ScorerSpec Spec, int Line);

    private readonly List<InputFileException> errors = [];
    private readonly List<ScorerSite> scorerSites = [];
    private readonly string yamlPath;
    private readonly string itemsPath;

    /// <summary>Line of prompt.template in suite.yaml, for errors of a Liquid template that fails on an item.</summary>
    private int liquidTemplateLine;

    private SuiteParser(string directory)
    {
        yamlPath = Path.Combine(directory, SuiteLoader.SuiteFileName);
        itemsPath = Path.Combine(directory, SuiteLoader.ItemsFileName);
    }

    [GeneratedRegex("^[a-z0-9-]+$", RegexOptions.CultureInvariant)]
    private static partial Regex NameRegex();

    public static Result Parse(string suiteDirectory)
    {
        var directory = Path.GetFullPath(suiteDirectory);
        var parser = new SuiteParser(directory);
        var suite = parser.ParseSuite(directory);
        return new Result(
            parser.errors.Count == 0 ? suite : null,
            [.. parser.errors],
            [.. parser.scorerSites]);
    }

    private void Error(string file, int? line, string problem) => errors.Add(new InputFileException(file, line, problem));

    private void YamlError(YamlNode node, string problem) => Error(yamlPath, LineOf(node), problem);

    private static int LineOf(YamlNode node) => checked((int)node.Start.Line);

    private Suite? ParseSuite(string directory)
    {
        if (!Directory.Exists(directory))
        {
            Error(directory, null, "suite directory does not exist");
            return null;
        }
        if (!File.Exists(yamlPath))
        {
            Error(yamlPath, null, "file is missing");
            return null;
        }
        var root = ReadYamlRoot();
        if (root is null)
        {
            return null;
        }

        var top = new Map(this, root, "", "name", "version", "kind", "description", "request", "prompt", "generation", "scorers", "requirement");
        var name = RequiredString(top, "name");
        var folder = Path.GetFileName(directory);
        if (name is not null && !NameRegex().IsMatch(name))
        {
            YamlError(top.Get("name")!, $"name '{name}' must match [a-z0-9-]+");
        }
        else if (name is not null && name != folder)
        {
            YamlError(top.Get("name")!, $"name '{name}' must equal the folder name '{folder}'");
        }
        var version = Integer(top, "version", required: true, min: 1);
        var kind = Enum(top, "kind", required: true, ("fixed", SuiteKind.Fixed), ("open", SuiteKind.Open));
        var description = OptionalString(top, "description") ?? "";
        var request = Enum(top, "request", required: true, ("generate", RequestKind.Generate), ("loglikelihood", RequestKind.LogLikelihood));
        var prompt = ParsePrompt(top, request);
        var generation = ParseGeneration(top, request);
        var scorers = ParseScorers(top);
        var requirement = ParseRequirement(top, kind);
        var items = prompt is null || request is null ? [] : ParseItems(prompt, request.Value);

        if (errors.Count > 0)
        {
            return null;
        }
        return new Suite(
            name!,
            version!.Value,
            kind!.Value,
            description,
            request!.Value,
            prompt!,
            generation!,
            scorers,
            requirement,
            items,
            directory,
            SuiteLoader.ContentSha256(directory));
    }

    private YamlMappingNode? ReadYamlRoot()
    {
        var before = errors.Count;
        var document = YamlSource.Load(File.ReadAllBytes(yamlPath), YamlSink);
        if (document is null)
        {
            if (errors.Count == before)
            {
                Error(yamlPath, null, "file is empty");
            }
            return null;
        }
        if (document is not YamlMappingNode root)
        {
            YamlError(document, "top level must be a mapping of keys");
            return null;
        }
        return root;
    }

    private void YamlSink(int? line, string problem) => Error(yamlPath, line, problem);

    private PromptTemplate? ParsePrompt(Map top, RequestKind? request)
    {
        var node = top.Get("prompt");
        if (node is null)
        {
            top.Missing("prompt");
            return null;
        }
        if (AsMapping(node, "prompt") is not { } mapping)
        {
            return null;
        }
        var map = new Map(this, mapping, "prompt.", "system", "template", "engine", "fewshot", "fewshot_separator", "followups", "continuation");
        var system = OptionalString(map, "system");
        var template = RequiredString(map, "template");
        var engineOrNull = Enum(map, "engine", required: false, ("placeholders", PromptEngine.Placeholders), ("liquid", PromptEngine.Liquid));
        var engine = engineOrNull ?? PromptEngine.Placeholders;
        if (engineOrNull is null && map.Get("engine") is not null)
        {
            // An unknown engine was reported; checking the template in another engine's syntax would only add noise.
            template = null;
        }
        else if (template is not null && engine == PromptEngine.Liquid)
        {
            template = ParseLiquidTemplate(map.Get("template")!, template);
        }
        else if (template is not null)
        {
            if (template.Length == 0)
            {
                YamlError(map.Get("template")!, "prompt.template must not be empty");
            }
            var malformed = TemplatePlaceholders.FirstMalformed(template);
            if (malformed >= 0)
            {
                YamlError(map.Get("template")!, $"prompt.template has a '{{{{' at offset {malformed} that is not a {{{{field}}}} placeholder (names are [A-Za-z_][A-Za-z0-9_]*, no spaces)");
            }
        }
        var separator = map.Get("fewshot_separator") is null ? "\n" : RequiredString(map, "fewshot_separator");
        var fewShot = template is null ? [] : ParseFewShot(map, template, engine);
        var followups = ParseFollowups(map, request, engine);
        var continuation = ParseContinuation(map, template, request, fewShot, engine);
        return template is null || separator is null || followups is null
            ? null
            : new PromptTemplate(template, system, fewShot, separator, followups.Value, continuation) { Engine = engine };
    }

    /// <summary>
    /// <c>prompt.continuation</c> (partial scoring): only for log-likelihood, with <c>{{choice}}</c> in the template
    /// and no few-shot examples; without it <c>{{choice}}</c> is refused, so the name cannot mean two things.
    /// </summary>
    private string? ParseContinuation(Map prompt, string? template, RequestKind? request, ImmutableArray<SuiteItem> fewShot, PromptEngine engine)
    {
        const string choice = "{{" + PromptTemplate.ChoicePlaceholder + "}}";
        var node = prompt.Get("continuation");
        if (engine == PromptEngine.Liquid)
        {
            if (node is not null && !IsNull(node))
            {
                YamlError(node, "prompt.continuation is a {{field}} template: use it with the placeholders engine, not engine: liquid");
            }
            return null;
        }

        var usesChoice = template is not null && TemplatePlaceholders.Names(template).Contains(PromptTemplate.ChoicePlaceholder);
        if (node is null || IsNull(node))
        {
            if (usesChoice)
            {
                YamlError(prompt.Get("template")!, $"prompt.template uses {choice}, which is reserved for partial scoring: set prompt.continuation, or rename the field");
            }
            return null;
        }
        if (ScalarString(node, "prompt.continuation") is not { } continuation)
        {
            return null;
        }
        if (request is not null and not RequestKind.LogLikelihood)
        {
            YamlError(node, "prompt.continuation is only allowed for request: loglikelihood (it is the text scored after each choice's context)");
        }
        if (continuation.Length == 0)
        {
            YamlError(node, "prompt.continuation must not be empty");
        }
        var malformed = TemplatePlaceholders.FirstMalformed(continuation);
        if (malformed >= 0)
        {
            YamlError(node, $"prompt.continuation has a '{{{{' at offset {malformed} that is not a {{{{field}}}} placeholder (names are [A-Za-z_][A-Za-z0-9_]*, no spaces)");
        }
        if (TemplatePlaceholders.Names(continuation).Contains(PromptTemplate.ChoicePlaceholder))
        {
            YamlError(node, $"prompt.continuation must not use {choice}: the same continuation is scored under every choice's context");
        }
        if (template is not null && !usesChoice)
        {
            YamlError(prompt.Get("template")!, $"prompt.template must use {choice} when prompt.continuation is set (each choice is put into the context there)");
        }
        if (!fewShot.IsDefaultOrEmpty)
        {
            YamlError(prompt.Get("fewshot")!, "prompt.fewshot cannot be combined with prompt.continuation (partial scoring renders no few-shot examples)");
        }
        return continuation;
    }

    // The user turns after the first: each a template like prompt.template, sent with the conversation so far.
    private ImmutableArray<string>? ParseFollowups(Map prompt, RequestKind? request, PromptEngine engine)
    {
        var node = prompt.Get("followups");
        if (node is null || IsNull(node))
        {
            return [];
        }

        if (engine == PromptEngine.Liquid)
        {
            YamlError(node, "prompt.followups are {{field}} templates: use them with the placeholders engine, not engine: liquid");
            return null;
        }

        if (node is not YamlSequenceNode sequence)
        {
            YamlError(node, "prompt.followups must be a list of templates (the user turns after the first)");
            return null;
        }

        if (request == RequestKind.LogLikelihood && sequence.Children.Count > 0)
        {
            YamlError(node, "prompt.followups needs request: generate (a conversation has an answer to every turn)");
            return null;
        }

        var followups = ImmutableArray.CreateBuilder<string>();
        for (var i = 0; i < sequence.Children.Count; i++)
        {
            var child = sequence.Children[i];
            var where = $"prompt.followups[{i}]";
            if (child is not YamlScalarNode scalar || IsNull(child) || string.IsNullOrEmpty(scalar.Value))
            {
                YamlError(child, $"{where} must be a non-empty string");
                return null;
            }

            var malformed = TemplatePlaceholders.FirstMalformed(scalar.Value);
            if (malformed >= 0)
            {
                YamlError(child, $"{where} has a '{{{{' at offset {malformed} that is not a {{{{field}}}} placeholder (names are [A-Za-z_][A-Za-z0-9_]*, no spaces)");
                return null;
            }

            followups.Add(scalar.Value);
        }

        return followups.ToImmutable();
    }

    private string? ParseLiquidTemplate(YamlNode node, string template)
    {
        liquidTemplateLine = LineOf(node);
        if (template.Trim().Length == 0)
        {
            YamlError(node, "prompt.template must not be empty");
            return null;
        }
        if (!LiquidTemplates.TryParse(template, out _, out var problem))
        {
            YamlError(node, $"prompt.template (liquid) does not parse: {problem}");
            return null;
        }
        return template;
    }

    /// <summary>
    /// A Liquid template is checked by rendering it on every item at load time, so a misspelt field is an error
    /// naming the item's line and the template, never an empty string in the prompt at run time.
    /// </summary>
    private string? LiquidProblem(string template, SuiteItem item)
    {
        try
        {
            LiquidTemplates.Render(template, item);
            return null;
        }
        catch (ArgumentException e)
        {
            return $"prompt.template (liquid, {SuiteLoader.SuiteFileName} line {liquidTemplateLine.ToString(CultureInfo.InvariantCulture)}) fails on this item: {(e.InnerException ?? e).Message}";
        }
    }

    private ImmutableArray<SuiteItem> ParseFewShot(Map prompt, string template, PromptEngine engine)
    {
        var node = prompt.Get("fewshot");
        if (node is null || IsNull(node))
        {
            return [];
        }
        if (node is not YamlSequenceNode sequence)
        {
            YamlError(node, "prompt.fewshot must be a list of examples");
            return [];
        }
        var examples = ImmutableArray.CreateBuilder<SuiteItem>();
        var placeholders = engine == PromptEngine.Liquid ? [] : TemplatePlaceholders.Names(template);
        for (var i = 0; i < sequence.Children.Count; i++)
        {
            var where = $"prompt.fewshot[{i}]";
            if (AsMapping(sequence.Children[i], where) is not { } mapping)
            {
                continue;
            }
            string? id = null;
            string? target = null;
            var fields = ImmutableSortedDictionary.CreateBuilder<string, JsonElement>(StringComparer.Ordinal);
            var hasTarget = false;
            foreach (var (keyNode, valueNode) in mapping.Children)
            {
                if (keyNode is not YamlScalarNode { Value: { } key })
                {
                    YamlError(keyNode, $"{where}: keys must be plain strings");
                    continue;
                }
                switch (key)
                {
                    case "id":
                        id = ScalarString(valueNode, $"{where}.id");
                        break;
                    case "target":
                        hasTarget = true;
                        target = ScalarString(valueNode, $"{where}.target");
                        break;
                    default:
                        if (ToJson(valueNode, $"{where}.{key}") is { } value)
                        {
                            fields[key] = value;
                        }
                        break;
                }
            }
            if (!hasTarget)
            {
                YamlError(mapping, $"{where} has no target");
            }
            foreach (var name in placeholders)
            {
                if (!fields.TryGetValue(name, out var value))
                {
                    YamlError(mapping, $"{where} lacks field '{name}' used by the template");
                }
                else if (PromptRenderer.FormatField(value) is null)
                {
                    YamlError(mapping, $"{where} field '{name}' is {value.ValueKind}; a template field must be a string, number or boolean");
                }
            }
            var example = new SuiteItem(id ?? $"fewshot-{i}", fields.ToImmutable(), target, []);
            if (engine == PromptEngine.Liquid && LiquidProblem(template, example) is { } problem)
            {
                YamlError(mapping, $"{where}: {problem}");
            }
            examples.Add(example);
        }
        return examples.ToImmutable();
    }

    private GenerationSettings? ParseGeneration(Map top, RequestKind? request)
    {
        var node = top.Get("generation");
        if (request == RequestKind.LogLikelihood)
        {
            if (node is not null)
            {
                YamlError(node, "generation is not allowed for request: loglikelihood (nothing is generated)");
            }
            return new GenerationSettings(0, [], 0, 0);
        }
        if (node is null)
        {
            if (request == RequestKind.Generate)
            {
                top.Missing("generation");
            }
            return null;
        }
        if (AsMapping(node, "generation") is not { } mapping)
        {
            return null;
        }
        var map = new Map(this, mapping, "generation.", "max_tokens", "stop", "temperature", "seed");
        var maxTokens = Integer(map, "max_tokens", required: true, min: 1);
        var stop = StringList(map, "stop", allowEmptyStrings: false) ?? [];
        var temperature = Number(map, "temperature", required: false, min: 0, minExclusive: false, max: null) ?? 0;
        var seed = Integer(map, "seed", required: false, min: int.MinValue) ?? 0;
        return maxTokens is null ? null : new GenerationSettings(maxTokens.Value, stop, temperature, seed);
    }

    private ImmutableArray<ScorerSpec> ParseScorers(Map top)
    {
        var node = top.Get("scorers");
        if (node is null)
        {
            top.Missing("scorers");
            return [];
        }
        if (node is not YamlSequenceNode sequence || sequence.Children.Count == 0)
        {
            YamlError(node, "scorers must be a non-empty list (the first scorer is primary)");
            return [];
        }
        var scorers = ImmutableArray.CreateBuilder<ScorerSpec>();
        for (var i = 0; i < sequence.Children.Count; i++)
        {
            var where = $"scorers[{i}]";
            if (AsMapping(sequence.Children[i], where) is not { } mapping)
            {
                continue;
            }
            var map = new Map(this, mapping, where + ".", "name", "args");
            var name = RequiredString(map, "name");
            var arguments = ImmutableSortedDictionary.Create<string, JsonElement>(StringComparer.Ordinal);
            if (map.Get("args") is { } argsNode && !IsNull(argsNode))
            {
                if (argsNode is YamlMappingNode argsMapping)
                {
                    var builder = ImmutableSortedDictionary.CreateBuilder<string, JsonElement>(StringComparer.Ordinal);
                    foreach (var (keyNode, valueNode) in argsMapping.Children)
                    {
                        if (keyNode is not YamlScalarNode { Value: { } key })
                        {
                            YamlError(keyNode, $"{where}.args: keys must be plain strings");
                            continue;
                        }
                        if (ToJson(valueNode, $"{where}.args.{key}") is { } value)
                        {
                            builder[key] = value;
                        }
                    }
                    arguments = builder.ToImmutable();
                }
                else
                {
                    YamlError(argsNode, $"{where}.args must be a mapping");
                }
            }
            if (name is not null)
            {
                var spec = new ScorerSpec(name, arguments);
                scorers.Add(spec);
                scorerSites.Add(new ScorerSite(spec, LineOf(mapping)));
            }
        }
        return scorers.ToImmutable();
    }

    private Requirement? ParseRequirement(Map top, SuiteKind? kind)
    {
        var node = top.Get("requirement");
        if (kind == SuiteKind.Open)
        {
            if (node is not null)
            {
                YamlError(node, "requirement is not allowed for kind: open (open suites rank models, they have no bar)");
            }
            return null;
        }
        if (node is null)
        {
            if (kind == SuiteKind.Fixed)
            {
                top.Missing("requirement");
            }
            return null;
        }
        if (AsMapping(node, "requirement") is not { } mapping)
        {
            return null;
        }
        var map = new Map(this, mapping, "requirement.", "min_pass_rate", "confidence", "p95_latency_ms", "max_joules_per_item", "sequential");
        var minPassRate = Number(map, "min_pass_rate", required: true, min: 0, minExclusive: false, max: (1, false));
        var confidence = Number(map, "confidence", required: true, min: 0, minExclusive: true, max: (1, true));
        var latencyMs = Number(map, "p95_latency_ms", required: false, min: 0, minExclusive: true, max: null);
        var joules = Number(map, "max_joules_per_item", required: false, min: 0, minExclusive: true, max: null);
        var sequential = Enum(map, "sequential", required: false, ("true", true), ("false", false)) ?? false;
        return minPassRate is null || confidence is null
            ? null
            : new Requirement(minPassRate.Value, confidence.Value, latencyMs is null ? null : TimeSpan.FromMilliseconds(latencyMs.Value), joules, sequential);
    }

    private ImmutableArray<SuiteItem> ParseItems(PromptTemplate prompt, RequestKind request)
    {
        if (!File.Exists(itemsPath))
        {
            Error(itemsPath, null, "file is missing");
            return [];
        }
        // The same decoding rule as suite.yaml: strict UTF-8, an optional byte-order mark, the line of a bad byte.
        var text = YamlSource.DecodeUtf8(File.ReadAllBytes(itemsPath), (line, problem) => Error(itemsPath, line, problem));
        if (text is null)
        {
            return [];
        }
        // Partial scoring: {{choice}} is each choice, not a field, and the continuation's placeholders are fields too.
        // Liquid templates are checked by rendering them on every item instead.
        var liquid = prompt.Engine == PromptEngine.Liquid;
        ImmutableArray<string> placeholders = liquid
            ? []
            : [.. TemplatePlaceholders.Names(prompt.Template).Where(n => prompt.Continuation is null || n != PromptTemplate.ChoicePlaceholder)
                .Concat(prompt.Followups.SelectMany(f => TemplatePlaceholders.Names(f)))
                .Concat(prompt.Continuation is null ? [] : TemplatePlaceholders.Names(prompt.Continuation))
                .Distinct(StringComparer.Ordinal)];
        var items = ImmutableArray.CreateBuilder<SuiteItem>();
        var firstLineOfId = new Dictionary<string, int>(StringComparer.Ordinal);
        var lines = text.Split('\n');
        for (var index = 0; index < lines.Length; index++)
        {
            var line = lines[index].TrimEnd('\r');
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }
            var (item, id) = ParseItem(line, index + 1, placeholders, request);
            if (id is null)
            {
                continue;
            }
            if (firstLineOfId.TryGetValue(id, out var first))
            {
                Error(itemsPath, index + 1, $"duplicate id '{id}' (first at line {first})");
            }
            else
            {
                firstLineOfId[id] = index + 1;
                if (item is not null && liquid && LiquidProblem(prompt.Template, item) is { } problem)
                {
                    Error(itemsPath, index + 1, problem);
                }
                else if (item is not null)
                {
                    items.Add(item);
                }
            }
        }
        if (items.Count == 0 && errors.Count == 0)
        {
            Error(itemsPath, null, "suite has no items");
        }
        return items.ToImmutable();
    }

    /// <summary>The item when it is valid, and its id whenever one could be read (so duplicates are still caught).</summary>
    private (SuiteItem? Item, string? Id) ParseItem(string line, int lineNumber, ImmutableArray<string> placeholders, RequestKind request)
    {
        void Fail(string problem) => Error(itemsPath, lineNumber, problem);

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(line);
        }
        catch (JsonException e)
        {
            Fail($"invalid JSON: {Serialization.JsonErrorText.Describe(e)}");
            return (null, null);
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                Fail($"an item must be a JSON object, not {root.ValueKind}");
                return (null, null);
            }
            var ok = true;
            string? id = null;
            string? target = null;
            var choices = ImmutableArray<string>.Empty;
            var fields = ImmutableSortedDictionary.CreateBuilder<string, JsonElement>(StringComparer.Ordinal);
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in root.EnumerateObject())
            {
                if (!seen.Add(property.Name))
                {
                    Fail($"property '{property.Name}' appears twice");
                    ok = false;
                    continue;
                }
                var value = property.Value;
                switch (property.Name)
                {
                    case "id":
                        if (value.ValueKind != JsonValueKind.String || value.GetString()!.Length == 0)
                        {
                            Fail("\"id\" must be a non-empty string");
                            ok = false;
                        }
                        else
                        {
                            id = value.GetString();
                        }
                        break;
                    case "target":
                        if (value.ValueKind != JsonValueKind.String)
                        {
                            Fail($"\"target\" must be a string, not {value.ValueKind}");
                            ok = false;
                        }
                        else
                        {
                            target = value.GetString();
                        }
                        break;
                    case "choices":
                        if (value.ValueKind != JsonValueKind.Array || value.GetArrayLength() == 0
                            || value.EnumerateArray().Any(c => c.ValueKind != JsonValueKind.String || c.GetString()!.Length == 0))
                        {
                            Fail("\"choices\" must be a non-empty array of non-empty strings");
                            ok = false;
                        }
                        else
                        {
                            choices = [.. value.EnumerateArray().Select(c => c.GetString()!)];
                            if (choices.Distinct(StringComparer.Ordinal).Count() != choices.Length)
                            {
                                Fail("\"choices\" has a duplicate entry");
                                ok = false;
                            }
                        }
                        break;
                    default:
                        fields[property.Name] = value.Clone();
                        break;
                }
            }
            if (id is null && ok)
            {
                Fail("item has no \"id\"");
                ok = false;
            }
            if (request == RequestKind.LogLikelihood && ok)
            {
                if (choices.Length < 2)
                {
                    Fail("request: loglikelihood needs \"choices\" with at least two entries");
                    ok = false;
                }
                else if (target is null || !choices.Contains(target))
                {
                    Fail("request: loglikelihood needs a \"target\" that is one of \"choices\"");
                    ok = false;
                }
            }
            foreach (var name in placeholders)
            {
                if (!fields.TryGetValue(name, out var value))
                {
                    Fail($"item lacks field '{name}' used by the template");
                    ok = false;
                }
                else if (PromptRenderer.FormatField(value) is null)
                {
                    Fail($"field '{name}' is {value.ValueKind}; a template field must be a string, number or boolean");
                    ok = false;
                }
            }
            return (ok ? new SuiteItem(id!, fields.ToImmutable(), target, choices) : null, id);
        }
    }

    // ---- YAML value readers: each reports its own error and returns null so parsing can continue. ----

    private YamlMappingNode? AsMapping(YamlNode node, string where)
    {
        if (node is YamlMappingNode mapping)
        {
            return mapping;
        }
        YamlError(node, $"{where} must be a mapping of keys");
        return null;
    }

    /// <summary>The shared rule (docs/yaml.md): <c>key:</c>, <c>~</c> and plain <c>null</c>/<c>Null</c>/<c>NULL</c>.</summary>
    private static bool IsNull(YamlNode node) => YamlScalars.IsNull(node);

    /// <summary>A scalar's text as written, refusing null and non-scalars.</summary>
    private string? ScalarString(YamlNode node, string where)
    {
        if (YamlScalars.Text(node) is { } text)
        {
            return text;
        }
        YamlError(node, $"{where} must be a string");
        return null;
    }

    private string? RequiredString(Map map, string key)
    {
        var node = map.Get(key);
        if (node is null)
        {
            map.Missing(key);
            return null;
        }
        return ScalarString(node, map.Prefix + key);
    }

    private string? OptionalString(Map map, string key)
    {
        var node = map.Get(key);
        return node is null || IsNull(node) ? null : ScalarString(node, map.Prefix + key);
    }

    private ImmutableArray<string>? StringList(Map map, string key, bool allowEmptyStrings)
    {
        var node = map.Get(key);
        if (node is null || IsNull(node))
        {
            return null;
        }
        if (node is not YamlSequenceNode sequence)
        {
            YamlError(node, $"{map.Prefix}{key} must be a list of strings");
            return null;
        }
        var values = ImmutableArray.CreateBuilder<string>();
        foreach (var child in sequence.Children)
        {
            if (ScalarString(child, $"{map.Prefix}{key} entry") is { } value)
            {
                if (value.Length == 0 && !allowEmptyStrings)
                {
                    YamlError(child, $"{map.Prefix}{key} entries must not be empty");
                }
                values.Add(value);
            }
        }
        return values.ToImmutable();
    }

    /// <summary>The node of a required or optional key; null after reporting a missing required one.</summary>
    private static YamlNode? Value(Map map, string key, bool required)
    {
        var node = map.Get(key);
        if (node is null && required)
        {
            map.Missing(key);
        }
        return node;
    }

    private int? Integer(Map map, string key, bool required, int min)
    {
        if (Value(map, key, required) is not { } node)
        {
            return null;
        }
        if (!YamlScalars.TryGetInt32(node, out var value))
        {
            YamlError(node, $"{map.Prefix}{key} must be an integer, not {YamlScalars.Describe(node)}");
            return null;
        }
        if (value < min)
        {
            YamlError(node, $"{map.Prefix}{key} must be at least {min.ToString(CultureInfo.InvariantCulture)}");
            return null;
        }
        return value;
    }

    private double? Number(Map map, string key, bool required, double min, bool minExclusive, (double Value, bool Exclusive)? max)
    {
        if (Value(map, key, required) is not { } node)
        {
            return null;
        }
        if (!YamlScalars.TryGetDouble(node, out var value))
        {
            YamlError(node, $"{map.Prefix}{key} must be a number, not {YamlScalars.Describe(node)}");
            return null;
        }
        var belowMin = minExclusive ? value <= min : value < min;
        var aboveMax = max is { } m && (m.Exclusive ? value >= m.Value : value > m.Value);
        if (belowMin || aboveMax)
        {
            var low = minExclusive ? "(" : "[";
            var high = max is null ? "inf)" : (max.Value.Exclusive ? ")" : "]");
            var range = string.Create(CultureInfo.InvariantCulture, $"{low}{min}, {(max is null ? "" : max.Value.Value)}{high}");
            YamlError(node, $"{map.Prefix}{key} must be in {range}, not {((YamlScalarNode)node).Value}");
            return null;
        }
        return value;
    }

    private T? Enum<T>(Map map, string key, bool required, params (string Text, T Value)[] options) where T : struct
    {
        var node = map.Get(key);
        if (node is null)
        {
            if (required)
            {
                map.Missing(key);
            }
            return null;
        }
        var text = ScalarString(node, map.Prefix + key);
        foreach (var option in options)
        {
            if (option.Text == text)
            {
                return option.Value;
            }
        }
        if (text is not null)
        {
            YamlError(node, $"{map.Prefix}{key} must be one of {string.Join(", ", options.Select(o => o.Text))}, not '{text}'");
        }
        return null;
    }

    /// <summary>YAML to JSON by the shared scalar rules (<see cref="YamlScalars.ToJson"/>).</summary>
    private JsonElement? ToJson(YamlNode node, string where) => YamlScalars.ToJson(node, where, YamlSink);

    /// <summary>A YAML mapping with a closed set of keys; unknown keys are reported once, on construction.</summary>
    private sealed class Map
    {
        private readonly SuiteParser parser;
        private readonly YamlMappingNode node;
        private readonly Dictionary<string, YamlNode> values;

        public Map(SuiteParser parser, YamlMappingNode node, string prefix, params string[] allowed)
        {
            this.parser = parser;
            this.node = node;
            Prefix = prefix;
            values = YamlSource.Keys(node, allowed, (key, name) =>
                parser.YamlError(key, $"unknown key '{prefix}{name}' (allowed: {string.Join(", ", allowed)})"));
        }

        public string Prefix { get; }

        public YamlNode? Get(string key) => values.GetValueOrDefault(key);

        public void Missing(string key) => parser.YamlError(node, $"missing required key '{Prefix}{key}'");
    }
}
