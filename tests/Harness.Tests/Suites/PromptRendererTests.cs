using System.Collections.Immutable;
using System.Text.Json;
using Harness.Core.Backends;
using Harness.Core.Suites;

namespace Harness.Tests.Suites;

public sealed class PromptRendererTests
{
    private static SuiteItem Item(string id, string fieldsJson, string? target = null)
    {
        using var document = JsonDocument.Parse(fieldsJson);
        var fields = document.RootElement.EnumerateObject()
            .ToImmutableSortedDictionary(p => p.Name, p => p.Value.Clone(), StringComparer.Ordinal);
        return new SuiteItem(id, fields, target, []);
    }

    private static PromptTemplate Template(string template, string? system = null, string separator = "\n", params SuiteItem[] fewShot) =>
        new(template, system, [.. fewShot], separator);

    [Fact]
    public void Substitutes_strings_raw_and_numbers_and_booleans_as_json_text()
    {
        var prompt = Template("{{s}}|{{i}}|{{d}}|{{e}}|{{t}}|{{f}}|{{s}}");
        var item = Item("1", """{"s":"a \"q\" {{i}}","i":-12,"d":0.5,"e":1.5e3,"t":true,"f":false}""");

        var rendered = PromptRenderer.Render(prompt, item);

        // Values are inserted once: the "{{i}}" inside s is not expanded again.
        Assert.Equal("a \"q\" {{i}}|-12|0.5|1.5e3|true|false|a \"q\" {{i}}", rendered.PlainText);
        Assert.Equal([new ChatMessage("user", rendered.PlainText)], rendered.Messages.AsEnumerable());
    }

    [Fact]
    public void Few_shot_and_system_render_as_chat_turns_and_as_plain_text()
    {
        var prompt = Template(
            "{{a}}+{{b}}=",
            system: "Add.",
            separator: "\n\n",
            Item("x1", """{"a":1,"b":2}""", "3"),
            Item("x2", """{"a":10,"b":20}""", "30"));
        var item = Item("q", """{"a":4,"b":5}""", "9");

        var rendered = PromptRenderer.Render(prompt, item);

        Assert.Equal(
            [
                new ChatMessage("system", "Add."),
                new ChatMessage("user", "1+2="),
                new ChatMessage("assistant", "3"),
                new ChatMessage("user", "10+20="),
                new ChatMessage("assistant", "30"),
                new ChatMessage("user", "4+5="),
            ],
            rendered.Messages.AsEnumerable());
        Assert.Equal("Add.\n1+2=3\n\n10+20=30\n\n4+5=", rendered.PlainText);
    }

    [Fact]
    public void Without_system_or_few_shot_the_plain_text_is_the_template_alone()
    {
        var rendered = PromptRenderer.Render(Template("review: {{text}}\nlabel:"), Item("1", """{"text":"great fast"}"""));

        Assert.Equal("review: great fast\nlabel:", rendered.PlainText);
        Assert.Single(rendered.Messages);
    }

    [Fact]
    public void Rendering_is_culture_invariant()
    {
        var prompt = Template("{{x}} {{y}}", system: null, separator: "\n", Item("f", """{"x":0.25,"y":-1000.5}""", "1,5"));
        var item = Item("1", """{"x":3.75,"y":12345.5}""");
        var invariant = PromptRenderer.Render(prompt, item);

        var german = Culture.Under("de-DE", () => PromptRenderer.Render(prompt, item));
        var turkish = Culture.Under("tr-TR", () => PromptRenderer.Render(prompt, item));

        Assert.Equal("0.25 -1000.51,5\n3.75 12345.5", german.PlainText);
        Assert.Equal(invariant.PlainText, german.PlainText);
        Assert.Equal(invariant.Messages.AsEnumerable(), german.Messages);
        Assert.Equal(invariant.PlainText, turkish.PlainText);
    }

    [Fact]
    public void Missing_or_unprintable_field_throws_naming_item_and_field()
    {
        var missing = Assert.Throws<ArgumentException>(() => PromptRenderer.Render(Template("{{a}}{{b}}"), Item("i7", """{"a":1}""")));
        var array = Assert.Throws<ArgumentException>(() => PromptRenderer.Render(Template("{{a}}"), Item("i8", """{"a":[1]}""")));

        Assert.Contains("item 'i7' has no field 'b'", missing.Message, StringComparison.Ordinal);
        Assert.Contains("item 'i8' field 'a' is Array", array.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Suite_overload_uses_the_suite_prompt()
    {
        var item = Item("1", """{"a":1,"b":2}""", "3");
        var suite = new Suite("demo", 1, SuiteKind.Open, "", RequestKind.Generate, Template("{{a}}-{{b}}"),
            new GenerationSettings(4, [], 0, 0), [new ScorerSpec("exact", ImmutableSortedDictionary<string, JsonElement>.Empty)],
            null, [item], "/tmp/demo", "");

        Assert.Equal("1-2", PromptRenderer.Render(suite, item).PlainText);
    }
}
