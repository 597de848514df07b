namespace Harness.Core.Reports;

/// <summary>Renders a <see cref="RunReport"/> into one file of the run folder.</summary>
public interface IReportWriter
{
    /// <summary>File name inside the run folder, e.g. <c>report.md</c>.</summary>
    string FileName { get; }

    Task WriteAsync(RunReport report, Stream destination, CancellationToken cancellationToken);
}
