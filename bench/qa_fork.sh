#!/usr/bin/env bash
# QA prefix sharing: one long document, Q questions, answered with the document prefilled once and
# forked per question vs prefilled again for each (--prefill-each). Same answers (checked), times
# printed; asserts nothing.
#   bench/qa_fork.sh [LONGJAM] [MODEL] [DOC_TOKENS~] [QUESTIONS] [THREADS]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LJ=${1:-$ROOT/build/cli/longjam}
MODEL=${2:-$ROOT/../shared/fixtures/models/tiny-chat}
WORDS=${3:-3000}
Q=${4:-8}
THREADS=${5:-2}
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
python3 - "$T" "$WORDS" "$Q" <<'PY'
import json, random, sys
t, words, q = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
r = random.Random(0)
w = "the model reads long documents and answers questions about state memory windows".split()
open(f"{t}/doc.txt", "w").write(" ".join(r.choice(w) for _ in range(words)) + "\n")
with open(f"{t}/q.jsonl", "w") as f:
    for i in range(q):
        f.write(json.dumps({"id": f"q{i}", "doc": "doc", "question": f"What is said about item {i}?"}) + "\n")
PY
for mode in fork each; do
  extra=(); [ $mode = each ] && extra=(--prefill-each)
  /usr/bin/time -f "%e %U %S" -o "$T/time" "$LJ" qa --model "$MODEL" --docs "$T/doc.txt" --questions "$T/q.jsonl" \
    -o "$T/$mode.jsonl" --max-answer-tokens 16 --threads "$THREADS" --max-context 16384 --quiet "${extra[@]}" 2>/dev/null
  read -r wall u s < "$T/time"
  printf '%-5s wall %6.2f s  cpu %6.2f s\n' "$mode" "$wall" "$(python3 -c "print($u + $s)")"
done
python3 "$ROOT/tests/pipelines/check.py" same "$T/fork.jsonl" "$T/each.jsonl" && echo "answers identical"
