using System.Text.Json;

namespace Harness.Tasks.Import;

/// <summary>One record of an imported file as a JSON value, with where it came from.</summary>
/// <param name="Row">As <see cref="ImportProblem.Row"/>.</param>
/// <param name="Value">A JSON object for every well-formed record; anything else is reported against <paramref name="Row"/>.</param>
public sealed record SourceRow(string Row, JsonElement Value);
