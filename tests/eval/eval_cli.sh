#!/bin/bash
# End to end: `longjam eval ruler` on the tiny-chat fixture (random weights: scores ~0, but the
# table, the results JSON and the PNG must come out), resume from a partial file, and
# `longjam eval longbench` on a small LongBench-format file with a forced middle truncation.
# usage: eval_cli.sh LONGJAM FIXTURES SOURCE_DIR [full]
set -u
LJ=$1; FX=$2; SRC=$3; MODE=${4:-quick}
MODEL=$FX/models/tiny-chat
[ -f "$MODEL/tokenizer.json" ] || { echo "skip: no tiny-chat fixture"; exit 77; }
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
cd "$SRC"

if [ "$MODE" = full ]; then
  TASKS=""; LENGTHS=4096,16384
else
  TASKS="--tasks niah_single_1,niah_multikey_3,vt"; LENGTHS=4096
fi
# resume: a finished sample in the partial file is reused, not rerun
echo '{"id":"niah_single_1/4096/0/seed42","task":"niah_single_1","length":4096,"index":0,"prediction":"RESUMED 1","outputs":["1"],"score":1.0}' > "$T/r.json.partial.jsonl"
"$LJ" eval ruler --model "$MODEL" --lengths $LENGTHS $TASKS --samples 1 -o "$T/r.json" --plot "$T/r.png" > "$T/table.md" 2> "$T/log" \
  || { cat "$T/log"; fail "eval ruler exited $?"; }
cat "$T/table.md"
grep -q '^| task | 4096 |' "$T/table.md" || fail "no markdown table header"
grep -q '^| vt | ' "$T/table.md" || fail "no vt row"
grep -q '^| niah_single_1 | 100.00 |' "$T/table.md" || fail "the resumed sample was not reused"
grep -q 'resuming: 1 samples' "$T/log" || fail "no resume message"
[ ! -e "$T/r.json.partial.jsonl" ] || fail "partial file left behind"
for key in '"chat_template"' '"chat_template_fnv1a64"' '"tokenizer"' '"strategy": "greedy"' '"samples"' '"prediction"' '"score"' '"needle_depths"' '"prompt_tokens"'; do
  grep -q "$key" "$T/r.json" || fail "results JSON lacks $key"
done
n=$(grep -c '"id": "' "$T/r.json")
[ "$n" -ge 3 ] || fail "expected >= 3 samples in the JSON, got $n"
if "$LJ" eval ruler --help | grep -q cairo || [ -s "$T/r.png" ]; then
  [ "$(head -c 8 "$T/r.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || fail "plot is not a PNG"
fi

# LongBench: two v1 datasets and one v2 item; max-context 600 forces a middle cut of the long one
CTX=$(printf 'Paragraph %d: The river flows past the old mill and the bakery. ' $(seq 1 60))
cat > "$T/lb.jsonl" <<JSON
{"input": "Which river flows past the mill?", "context": "$CTX", "answers": ["the river"], "length": 700, "dataset": "hotpotqa", "language": "en", "all_classes": null, "_id": "h1"}
{"input": "What is the capital?", "context": "Q: What city? Type: City", "answers": ["City"], "length": 10, "dataset": "trec", "language": "en", "all_classes": ["City", "Location"], "_id": "t1"}
{"_id": "v1", "domain": "x", "sub_domain": "y", "difficulty": "easy", "length": "short", "question": "Which is right?", "choice_A": "a", "choice_B": "b", "choice_C": "c", "choice_D": "d", "answer": "B", "context": "Some text."}
JSON
"$LJ" eval longbench --model "$MODEL" --data "$T/lb.jsonl" --max-context 600 -o "$T/lb.json" > "$T/lb.md" 2> "$T/lblog" \
  || { cat "$T/lblog"; fail "eval longbench exited $?"; }
cat "$T/lb.md"
grep -q 'truncated in the middle' "$T/lblog" || fail "no truncation warning"
grep -q '^| hotpotqa |' "$T/lb.md" || fail "no hotpotqa row"
grep -q '^| longbench_v2 |' "$T/lb.md" || fail "no v2 row"
grep -q '"truncated": true' "$T/lb.json" || fail "truncation not recorded"
grep -q '"metric": "qa_f1_score"' "$T/lb.json" || fail "hotpotqa metric not recorded"
grep -q '"metric": "classification_score"' "$T/lb.json" || fail "trec metric not recorded"
echo OK
