using Harness.Core.Runs;

namespace Harness.Core.Reports;

/// <summary>What a report or a run diff keeps of each stored item record while it is built.</summary>
public static class ReportItems
{
    /// <summary>
    /// The record without its rendered prompt. No report or diff reads the prompt, and it is most of a record's size
    /// (an MMLU five-shot prompt is about 3 KB, against a few hundred bytes for everything else), so dropping it as the
    /// records are read keeps a 140,000-item run in a few hundred MB. The stored record keeps it: this is a reading of
    /// the evidence for one purpose, never a rewrite of it.
    /// </summary>
    public static ItemRecord ForReport(ItemRecord item)
    {
        ArgumentNullException.ThrowIfNull(item);
        return item.PromptText.Length == 0 ? item : item with { PromptText = "" };
    }
}
