using System.Text.Json;
using Harness.Core.Serialization;

namespace Harness.Core.Reports;

/// <summary>report.json: the <see cref="RunReport"/> in the Harness JSON dialect, versioned by <c>reportSchemaVersion</c>.</summary>
public sealed class JsonReportWriter : IReportWriter
{
    public string FileName => "report.json";

    public Task WriteAsync(RunReport report, Stream destination, CancellationToken cancellationToken) =>
        JsonSerializer.SerializeAsync(destination, report, HarnessJson.IndentedOptions, cancellationToken);
}
