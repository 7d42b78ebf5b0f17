#!/usr/bin/env bash
# Sharding: --shard 0/3, 1/3, 2/3 split the input into disjoint parts that cover it; `longjam merge`
# of the three outputs equals the unsharded run; merge --input lists nothing missing, and names a
# request whose line was removed (exit 3); a shard rerun twice merges without duplicates; bad
# --shard values fail fast (exit 2). Also for summarize (by document path).
set -euo pipefail
LJ=$1 MODEL=$2
HERE=$(cd "$(dirname "$0")" && pwd)
CHECK="python3 $HERE/check.py"
if [ "$MODEL" != toy ] && "$LJ" run --model "$MODEL" /dev/null -o /dev/null --quiet 2>&1 | grep -q "no engine"; then
  echo "skip: engine not built"; exit 77
fi
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
cd "$T"
$CHECK make-requests req.jsonl 30 1 >/dev/null
ARGS=(run --model "$MODEL" req.jsonl --max-context 256 --quiet)
"$LJ" "${ARGS[@]}" -o all.jsonl || [ $? = 3 ]
for i in 0 1 2; do "$LJ" "${ARGS[@]}" --shard $i/3 -o s$i.jsonl || [ $? = 3 ] || [ $? = 0 ]; done
python3 - <<'PY'
import json
parts = [set(json.loads(l)["id"] for l in open(f"s{i}.jsonl")) for i in range(3)]
allids = set(json.loads(l)["id"] for l in open("all.jsonl"))
assert all(parts), [len(p) for p in parts]
assert not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2]), "shards overlap"
assert parts[0] | parts[1] | parts[2] == allids, "shards do not cover the input"
print("shard sizes", [len(p) for p in parts], "of", len(allids))
PY
cat s1.jsonl >> s1b.jsonl; cat s1.jsonl >> s1b.jsonl   # shard 1 present twice: duplicates dropped
"$LJ" merge merged.jsonl s0.jsonl s1b.jsonl s2.jsonl --input req.jsonl
$CHECK same all.jsonl merged.jsonl
echo "ok: 3 shards + merge == unsharded"
grep -v '"custom_id":"req-0005"' s0.jsonl s1.jsonl s2.jsonl -h > partial.jsonl
set +e; "$LJ" merge m2.jsonl partial.jsonl --input req.jsonl 2> missing.txt; rc=$?; set -e
[ $rc = 3 ] && grep -q "missing: req-0005" missing.txt || { echo "FAIL: merge did not report req-0005 missing (rc $rc)"; cat missing.txt; exit 1; }
echo "ok: merge lists missing"
for bad in 3/3 -1/3 x 1/0; do
  set +e; "$LJ" "${ARGS[@]}" --shard "$bad" -o bad.jsonl 2>/dev/null; rc=$?; set -e
  [ $rc = 2 ] || { echo "FAIL: --shard $bad exit $rc"; exit 1; }
done
set +e; env -u SLURM_ARRAY_TASK_ID "$LJ" "${ARGS[@]}" --shard slurm -o bad.jsonl 2>err.txt; rc=$?; set -e
[ $rc = 2 ] && grep -q SLURM_ARRAY_TASK_ID err.txt || { echo "FAIL: --shard slurm without env: $rc"; exit 1; }
SLURM_ARRAY_TASK_ID=1 SLURM_ARRAY_TASK_COUNT=3 "$LJ" "${ARGS[@]}" --shard slurm -o sl1.jsonl || [ $? = 3 ] || [ $? = 0 ]
$CHECK same s1.jsonl sl1.jsonl
echo "ok: bad --shard fails fast; --shard slurm"

for i in 0 1 2 3 4; do echo "document $i: $(seq -s ' ' 1 $((i * 20 + 5)))" > doc$i.txt; done
S=(summarize --model "$MODEL" doc0.txt doc1.txt doc2.txt doc3.txt doc4.txt --max-summary-tokens 6 --max-context 1024 --quiet)
"$LJ" "${S[@]}" -o sum_all.jsonl
for i in 0 1; do "$LJ" "${S[@]}" --shard $i/2 -o sum$i.jsonl; done
"$LJ" merge sum_merged.jsonl sum0.jsonl sum1.jsonl
[ "$(wc -l < sum_merged.jsonl)" = 5 ]
$CHECK same sum_all.jsonl sum_merged.jsonl
echo "ok: summarize shards + merge"
