using System.Globalization;
using System.Text.Json;
using Fluid;
using Fluid.Values;

namespace Harness.Core.Suites;

/// <summary>Which syntax <c>prompt.template</c> is written in.</summary>
public enum PromptEngine
{
    /// <summary><c>{{field}}</c> substitution of string, number and boolean fields (the default).</summary>
    Placeholders,

    /// <summary>Liquid (Fluid): loops, conditions and filters over every field, lists and objects included.</summary>
    Liquid,
}

/// <summary>
/// The Liquid prompt engine. Templates are data: no file access (<c>include</c>/<c>render</c> are not tags), no
/// functions, an unknown variable or filter is an error rather than an empty string, and numbers print in the
/// invariant culture whatever the machine's culture.
/// </summary>
internal static class LiquidTemplates
{
    // Immutable once built; parsing and rendering with them are thread-safe.
    private static readonly FluidParser Parser = CreateParser();

    private static readonly TemplateOptions Options = new TemplateOptionsBuilder()
        .WithStrictVariables(true)
        .WithStrictFilters(true)
        .WithCultureInfo(CultureInfo.InvariantCulture)
        .WithTimeZone(TimeZoneInfo.Utc)
        .WithNow(static () => DateTimeOffset.UnixEpoch)
        .WithMaxSteps(1_000_000)
        .Build();

    private static FluidParser CreateParser()
    {
        var parser = new FluidParser(new FluidParserOptions { AllowFunctions = false, AllowLiquidTag = false });
        // Sub-templates would read files beside the suite: a template must be the whole prompt on its own.
        parser.RegisteredTags.Remove("include");
        parser.RegisteredTags.Remove("render");
        return parser;
    }

    /// <summary>The parsed template, or the parser's message.</summary>
    public static bool TryParse(string source, out IFluidTemplate? template, out string? error)
    {
        if (Parser.TryParse(source, out var parsed, out var message))
        {
            template = parsed;
            error = null;
            return true;
        }
        template = null;
        error = message.ReplaceLineEndings(" ").Trim();
        return false;
    }

    /// <summary>Renders with the item's fields as variables, plus <c>choices</c> (a list of strings) when the item has choices.</summary>
    /// <exception cref="ArgumentException">The template does not parse, or uses an unknown variable or filter.</exception>
    public static string Render(string source, SuiteItem item)
    {
        if (!TryParse(source, out var template, out var error))
        {
            throw new ArgumentException($"the liquid template does not parse: {error}", nameof(source));
        }
        return Render(template!, item);
    }

    /// <inheritdoc cref="Render(string, SuiteItem)"/>
    public static string Render(IFluidTemplate template, SuiteItem item)
    {
        var context = new TemplateContext(Options);
        foreach (var (name, value) in item.Fields)
        {
            context.SetValue(name, ToFluid(value));
        }
        if (!item.Choices.IsDefaultOrEmpty)
        {
            context.SetValue("choices", ArrayValue.Create([.. item.Choices.Select(c => (FluidValue)StringValue.Create(c))]));
        }
        try
        {
            return template.Render(context);
        }
        catch (Exception e) when (e is FluidException or InvalidOperationException or ArgumentException or FormatException or OverflowException)
        {
            throw new ArgumentException($"item '{item.Id}': {e.Message}", nameof(item), e);
        }
    }

    /// <summary>
    /// JSON to Liquid values: lists stay lists and objects stay objects (so <c>choices.text</c> and <c>for</c> work);
    /// a number too large for a decimal is kept as its JSON text.
    /// </summary>
    internal static FluidValue ToFluid(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => StringValue.Create(value.GetString()!),
        JsonValueKind.Number => value.TryGetDecimal(out var number) ? NumberValue.Create(number) : StringValue.Create(value.GetRawText()),
        JsonValueKind.True => BooleanValue.Create(true),
        JsonValueKind.False => BooleanValue.Create(false),
        JsonValueKind.Null => NilValue.Instance,
        JsonValueKind.Array => ArrayValue.Create([.. value.EnumerateArray().Select(ToFluid)]),
        JsonValueKind.Object => DictionaryValue.Create(new FluidValueDictionaryFluidIndexable(
            value.EnumerateObject().ToDictionary(p => p.Name, p => ToFluid(p.Value), StringComparer.Ordinal))),
        _ => NilValue.Instance,
    };
}
