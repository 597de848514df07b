#!/usr/bin/env bash
# What sharding costs (docs/scale-out.md): the shipped models on the shipped suites, once as one `harness run` and once
# as a plan of N shards run one after another on this machine (each shard alone, as it would run on a node of its
# own), then merged. Prints one Markdown table: wall time of the single run; each shard's wall time, its process
# start-up (a second invocation of the finished shard: start, plan and suite checks, model resolution, nothing to run)
# and its models' load time (from the shard's store); the merge; the array's wall time on N idle nodes (the slowest
# shard + the merge) and the total work (the sum of the shards). Also checks that the merged store equals the single
# run's item for item (outputs, scores, pass/fail). Timings are evidence only on an idle machine.
#
# usage: tests/Harness.Benchmarks/scale-out.sh [WORK_DIR] [SHARDS]      (defaults: .cache/scale-out, 3)
#   extra `harness run` selection options may follow in HARNESS_SELECTION, e.g. "--model tiny-bigram --suite tasks/arith"
set -euo pipefail
export LC_ALL=C
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mkdir -p "${1:-$root/.cache/scale-out}" && cd "${1:-$root/.cache/scale-out}" && pwd)
shards=${2:-3}
read -r -a selection <<< "${HARNESS_SELECTION:-}"
dotnet build -c Release "$root/src/Harness.Cli" -v quiet -nologo >&2
harness() { dotnet "$root/src/Harness.Cli/bin/Release/net10.0/harness.dll" "$@"; }
now() { date +%s.%N; }
seconds() { python3 -c "print(f'{$2 - $1:.1f}')"; }

rm -rf "$work/single" "$work/plan"
cd "$root"
t0=$(now); harness run --results "$work/single" --order-seed 7 --json "${selection[@]}" > "$work/single.json"; t1=$(now)
single=$(seconds "$t0" "$t1")
harness plan --shards "$shards" --output "$work/plan" --order-seed 7 --json "${selection[@]}" > "$work/plan.json"

rows=()
for ((i = 0; i < shards; i++)); do
  s0=$(now); harness run --plan "$work/plan" --shard "$i" --json > "$work/shard-$i.json"; s1=$(now)
  harness run --plan "$work/plan" --shard "$i" --json > /dev/null; s2=$(now)
  rows+=("$i $(seconds "$s0" "$s1") $(seconds "$s1" "$s2")")
done
m0=$(now); harness merge "$work/plan" --json > "$work/merge.json"; m1=$(now)
merge=$(seconds "$m0" "$m1")

python3 - "$work" "$single" "$merge" "${rows[@]}" <<'EOF'
import glob, json, sqlite3, sys
work, single, merge, rows = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), [r.split() for r in sys.argv[4:]]

def items(path):
    c = sqlite3.connect(path)
    out = {}
    for m, s, i, payload in c.execute("select model_id, suite, item_id, payload from items"):
        j = json.loads(payload)
        out[(m, s, i)] = (j["status"], j["rawOutput"], json.dumps(j["scores"]), json.dumps(j.get("choices")), j["passed"])
    return out

def loads(path):
    c = sqlite3.connect(path)
    total = 0.0
    for (payload,) in c.execute("select payload from models"):
        info = json.loads(payload).get("loadInfo")
        if info:
            t = info["loadTime"]
            total += t / 1000  # milliseconds (docs/result-format.md)
    return total

single_store = glob.glob(f"{work}/single/*/store.sqlite")[0]
a, b = items(single_store), items(f"{work}/plan/store.sqlite")
differ = sum(1 for k in a if a[k] != b.get(k)) + len(set(b) - set(a))
plan = json.load(open(f"{work}/plan.json"))
print(f"| | wall s | start-up s | model loads s | items | models |")
print(f"|---|---:|---:|---:|---:|---|")
print(f"| one `harness run` | {single:.1f} | | {loads(single_store):.1f} | {len(a)} | all |")
walls = []
for index, wall, startup in rows:
    shard = plan["shards"][int(index)]
    walls.append(float(wall))
    store = f"{work}/plan/shards/{int(index):03d}/store.sqlite"
    print(f"| shard {index} | {float(wall):.1f} | {float(startup):.1f} | {loads(store):.1f} | {sum(w['itemCount'] for w in shard['work'])} | {', '.join(dict.fromkeys(w['modelId'] for w in shard['work']))} |")
print(f"| `harness merge` | {merge:.1f} | | | {len(b)} | |")
print(f"| array on {len(rows)} idle nodes (slowest shard + merge) | {max(walls) + merge:.1f} | | | | |")
print(f"| total work (sum of shards + merge) | {sum(walls) + merge:.1f} | | | | |")
print()
print(f"merged store vs single run: {len(b)} vs {len(a)} items, {differ} differ (outputs, scores, choices, pass/fail)")
EOF
