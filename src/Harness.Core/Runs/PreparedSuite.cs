using System.Collections.Immutable;
using Harness.Core.Scoring;
using Harness.Core.Suites;

namespace Harness.Core.Runs;

/// <summary>A suite with its scorers built once, shared read-only by every model of a run.</summary>
/// <param name="SequentialOrder">Item ids in the recorded random order when the suite runs until decided
/// (<see cref="SequentialPlan"/>); null: every item, in file order.</param>
public sealed record PreparedSuite(Suite Suite, ImmutableArray<IScorer> Scorers, ImmutableArray<string>? SequentialOrder = null);

/// <summary>Where a model's evaluation stands, reported after every item.</summary>
/// <param name="Completed">Items with a record for this (model, suite), including those from earlier attempts.</param>
/// <param name="Total">Items of the suite; a sequential suite that decided early reports Total = Completed once, at the end.</param>
public sealed record EvaluationProgress(string ModelId, string Suite, int Completed, int Total, ItemRecord? LastItem);
