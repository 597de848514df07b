using System.Collections.Immutable;

namespace Harness.Core.Scoring;

/// <summary>The JSON shape an argument takes; checked before the scorer reads it, and named in the generated docs.</summary>
public enum ScorerArgumentType
{
    Text,
    Boolean,
    Number,
    WholeNumber,
    TextList,
    /// <summary>A regex group: its number or its name.</summary>
    WholeNumberOrText,
    /// <summary><c>[lowest, highest]</c>.</summary>
    WholeNumberPair,
}

/// <summary>
/// One argument a scorer accepts. The same description validates a suite's arguments (unknown names, required ones,
/// allowed values) and writes the scorer reference in docs/suite-format.md, so the two cannot drift.
/// </summary>
/// <param name="Meaning">One sentence for the reference; markdown.</param>
public sealed record ScorerArgument(string Name, ScorerArgumentType Type, string Meaning)
{
    /// <summary>The default as a suite would write it; null when there is none (the argument is required or optional without one).</summary>
    public string? Default { get; init; }

    public bool Required { get; init; }

    /// <summary>The values allowed (for a list: for each element); empty when any value of the type is.</summary>
    public ImmutableArray<string> AllowedValues { get; init; } = [];

    /// <summary>What the allowed values are called in messages: "one of" for a choice, "steps" for normalization steps.</summary>
    public string AllowedValuesLabel { get; init; } = "one of";

    /// <summary>The name with its allowed values, as error messages list it: <c>normalize (steps: trim, lowercase)</c>.</summary>
    public string Summary => AllowedValues.IsDefaultOrEmpty ? Name : $"{Name} ({AllowedValuesLabel}: {string.Join(", ", AllowedValues)})";
}

/// <summary>A scorer's reference entry: what it does, its arguments, and a suite.yaml example that loads as written.</summary>
/// <param name="Summary">What the scorer measures, one or two sentences; markdown.</param>
/// <param name="ExampleArguments">The arguments of the example as JSON (a test builds the scorer from them).</param>
public sealed record ScorerDescription(string Name, string Summary, ImmutableArray<ScorerArgument> Arguments, string ExampleArguments);
