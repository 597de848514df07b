#!/usr/bin/env bash
# Reports at benchmark scale (docs/performance.md): writes two synthetic runs of 10 models x (MMLU's 14,042 items + a
# 250-item generate suite + an 80-item open suite) = 143,720 item records each (about 700 MB of store each, written
# once and reused), then times `harness report` on run A and on A against B (the run diff) and prints one Markdown
# table: wall time and peak RSS of each command, its phases (HARNESS_REPORT_TIMINGS=1) and the size of each file.
#
# usage: tests/Harness.Benchmarks/report-scale.sh [WORK_DIR] [HARNESS_DLL]
#   WORK_DIR     default .cache/report-scale (needs about 1.5 GB free)
#   HARNESS_DLL  a harness.dll to measure instead of this checkout's Release build (to compare two builds on the same
#                runs: run the script once per build, same WORK_DIR)
set -euo pipefail
export LC_ALL=C
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mkdir -p "${1:-$root/.cache/report-scale}" && cd "${1:-$root/.cache/report-scale}" && pwd)
harness=${2:-}

if [[ -z "$harness" ]]; then
  dotnet build -c Release "$root/src/Harness.Cli" -v quiet -nologo >&2
  harness="$root/src/Harness.Cli/bin/Release/net10.0/harness.dll"
fi

if [[ ! -f "$work/runs/scale-b/run.json" ]]; then
  rm -rf "$work/runs"
  dotnet build -c Release "$root/tests/Harness.Benchmarks" -v quiet -nologo >&2
  dotnet "$root/tests/Harness.Benchmarks/bin/Release/net10.0/Harness.Benchmarks.dll" synthetic-runs "$work/runs" >&2
fi

size() { stat -c %s "$1" | sed -e ':a' -e 's/\B[0-9]\{3\}\>/,&/' -e 'ta'; }

# measure LABEL ARGS...: one row for the whole command (wall, peak RSS), then one per phase.
measure() {
  local label=$1; shift
  HARNESS_REPORT_TIMINGS=1 /usr/bin/time -f '%e %M' -o "$work/time.txt" dotnet "$harness" "$@" >/dev/null 2>"$work/phases.txt" || {
    local rc=$?
    # harness report exits 4 when a (model, suite) is in error; the synthetic runs have none, so anything else failed.
    cat "$work/phases.txt" >&2; exit "$rc"; }
  read -r wall rss <"$work/time.txt"
  printf '| %s | %.1f s | %d MiB | |\n' "$label" "$wall" $((rss / 1024))
  sed -nE 's/^\[report timings\] (.*[^ ]) +([0-9.]+) s .*/\1|\2/p' "$work/phases.txt" | while IFS='|' read -r phase seconds; do
    printf '| &nbsp;&nbsp;%s | %.2f s | | |\n' "$phase" "$seconds"
  done
}

echo "harness: $harness"
echo "runs: $work/runs ($(du -sh "$work/runs/scale-a/store.sqlite" | cut -f1) store each), $(nproc) cores, $(date -u +%FT%TZ)"
echo
echo '| command / phase | wall time | peak RSS | file size |'
echo '|---|---:|---:|---:|'
measure 'harness report scale-a' report "$work/runs/scale-a"
for f in report.md report.json report.html; do
  printf '| &nbsp;&nbsp;%s | | | %s B |\n' "$f" "$(size "$work/runs/scale-a/$f")"
done
rm -rf "$work/diff"
measure 'harness report scale-a scale-b (run diff)' report "$work/runs/scale-a" "$work/runs/scale-b" --output "$work/diff"
for f in "$work"/diff/*; do
  printf '| &nbsp;&nbsp;%s | | | %s B |\n' "$(basename "$f")" "$(size "$f")"
done
