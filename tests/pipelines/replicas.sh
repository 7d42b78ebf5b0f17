#!/usr/bin/env bash
# Data parallel (--replicas N, the CPU form of --gpus N): the output is what one replica writes.
#   1. run (OpenAI batch, toy backend, 60 requests incl. malformed ones) with --ordered: 2 and 3
#      replicas give the 1-replica lines (ignoring only the random ids and "created"); without
#      --ordered the same set of lines;
#   2. qa with the bundled sample model over samples/qa: byte-identical answers with 2 replicas
#      (each document's state is forked on the replica that prefilled it);
#   3. summarize with the sample model: identical summaries (ignoring "seconds");
#   4. bad values: --gpus without cuda, --gpus/--replicas disagreeing, are usage errors.
# usage: replicas.sh LONGJAM REPO_ROOT
set -euo pipefail
LJ=$1 ROOT=$2
HERE=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
cd "$T"
python3 -c "import sys; sys.path.insert(0, '$HERE'); import check; check.make_requests('req.jsonl', 60, seed=3, malformed=True, max_tokens=(4, 30))"
norm() {   # the lines without per-run ids and timestamps
  python3 - "$1" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    j = json.loads(line)
    j.pop("id", None)
    body = (j.get("response") or {}).get("body") or {}
    for k in ("id", "created"):
        body.pop(k, None)
    j.pop("seconds", None)
    print(json.dumps(j, sort_keys=True))
PY
}
for n in 1 2 3; do "$LJ" run --model toy:4096 --max-seqs 4 --replicas $n --ordered req.jsonl -o run$n.jsonl --quiet || [ $? = 3 ]; done
for n in 2 3; do
  cmp <(norm run1.jsonl) <(norm run$n.jsonl) || { echo "FAIL: run with $n replicas differs from one"; exit 1; }
done
"$LJ" run --model toy:4096 --max-seqs 4 --replicas 3 req.jsonl -o runu.jsonl --quiet || [ $? = 3 ]
cmp <(norm run1.jsonl | sort) <(norm runu.jsonl | sort) || { echo "FAIL: unordered, 3 replicas: other lines"; exit 1; }
echo "ok: run, 1/2/3 replicas"

QA=(qa --model "$ROOT/samples/model" --docs "$ROOT"/samples/qa/*.txt --questions "$ROOT/samples/qa/questions.jsonl"
    --instruction $'\n\nQuestion: ' --ordered --quiet --threads 2)
"$LJ" "${QA[@]}" -o qa1.jsonl
"$LJ" "${QA[@]}" --replicas 2 -o qa2.jsonl
cmp qa1.jsonl qa2.jsonl || { echo "FAIL: qa with 2 replicas differs"; diff qa1.jsonl qa2.jsonl; exit 1; }
[ "$(wc -l < qa1.jsonl)" = "$(wc -l < "$ROOT/samples/qa/questions.jsonl")" ] || { echo "FAIL: qa lines"; exit 1; }
echo "ok: qa, 2 replicas: identical answers"

SUM=(summarize --model "$ROOT/samples/model" "$ROOT/samples/docs/gettysburg.tei.xml" "$ROOT/samples/qa/krb5-readme.txt"
     --window-tokens 1500 --max-summary-tokens 16 --ordered --quiet --threads 2)
"$LJ" "${SUM[@]}" -o sum1.jsonl
"$LJ" "${SUM[@]}" --replicas 2 -o sum2.jsonl
cmp <(norm sum1.jsonl) <(norm sum2.jsonl) || { echo "FAIL: summarize with 2 replicas differs"; exit 1; }
echo "ok: summarize, 2 replicas"

expect_usage() {
  set +e; "$LJ" run --model toy "$@" req.jsonl -o bad.jsonl --quiet 2> bad.err; local rc=$?; set -e
  [ $rc = 2 ] || { echo "FAIL: $* gave exit $rc"; cat bad.err; exit 1; }
}
expect_usage --gpus 2
grep -q -- "--gpus needs --device cuda" bad.err
expect_usage --device cuda --gpus 2 --replicas 3
grep -q "disagree" bad.err
echo "ok: usage errors"
