#!/usr/bin/env bash
# End to end on one model (toy or tiny-chat): `longjam run` over an OpenAI batch file with malformed
# lines (each gets its own error line, the rest succeed, exit 3); every field present and typed;
# N sequences in flight give the same results as one at a time; --ordered; --errors-file; a missing
# max_tokens runs to the end of the context; qa and summarize (documents and windows.jsonl); --help.
set -euo pipefail
LJ=$1 MODEL=$2
HERE=$(cd "$(dirname "$0")" && pwd)
CHECK="python3 $HERE/check.py"
if [ "$MODEL" != toy ] && ! "$LJ" run --model "$MODEL" /dev/null -o /dev/null --quiet 2>/tmp/lj-e2e-probe.$$; then
  if grep -q "no engine" /tmp/lj-e2e-probe.$$; then rm -f /tmp/lj-e2e-probe.$$; echo "skip: engine not built"; exit 77; fi
fi
rm -f /tmp/lj-e2e-probe.$$
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
cd "$T"
$CHECK make-requests req.jsonl 24 1 >/dev/null
COMMON=(--model "$MODEL" --max-context 256 --quiet)

set +e
"$LJ" run "${COMMON[@]}" req.jsonl -o many.jsonl --max-seqs 8 --chunk 16; rc=$?
set -e
[ $rc = 3 ] || { echo "FAIL: run exit $rc, want 3 (some failed)"; exit 1; }
$CHECK check-run req.jsonl many.jsonl 1
"$LJ" run "${COMMON[@]}" req.jsonl -o one.jsonl --max-seqs 1 || [ $? = 3 ]
$CHECK same many.jsonl one.jsonl        # continuous batching == one at a time (greedy and seeded)
echo "ok: fields, malformed lines, batching invariance"

"$LJ" run "${COMMON[@]}" req.jsonl -o ordered.jsonl --ordered --max-seqs 4 || [ $? = 3 ]
$CHECK order req.jsonl ordered.jsonl
$CHECK same many.jsonl ordered.jsonl
"$LJ" run "${COMMON[@]}" req.jsonl -o good.jsonl --errors-file errs.jsonl || [ $? = 3 ]
[ "$(wc -l < errs.jsonl)" = 7 ] || { echo "FAIL: errors file has $(wc -l < errs.jsonl) lines"; exit 1; }
if grep -v '"status_code":200' good.jsonl; then echo "FAIL: failed line in the output with --errors-file"; exit 1; fi
cat good.jsonl errs.jsonl > both.jsonl
$CHECK same many.jsonl both.jsonl
echo "ok: --ordered, --errors-file"

# progress on a non-terminal stderr: plain lines and the final {total, completed, failed}
"$LJ" run --model "$MODEL" --max-context 256 req.jsonl -o prog.jsonl 2> prog.err || [ $? = 3 ]
grep -q "^progress: .* requests done, 7 failed" prog.err || { echo "FAIL: no progress line"; cat prog.err; exit 1; }
tail -1 prog.err | python3 -c "
import json, sys
j = json.loads(sys.stdin.read())
assert j['total'] == j['completed'] == $(wc -l < many.jsonl) and j['failed'] == 7 and j['interrupted'] is False, j"
"$LJ" run --model "$MODEL" --max-context 256 req.jsonl -o quiet.jsonl --quiet 2> quiet.err || [ $? = 3 ]
if grep -q "^progress" quiet.err; then echo "FAIL: --quiet printed progress"; exit 1; fi
echo "ok: progress"
# --experts: int8 experts (ExpertsInt8) run the same batch to completion; a bad value is a usage error
if [ "$MODEL" != toy ]; then
  "$LJ" run --model "$MODEL" --max-context 256 --experts int8 req.jsonl -o int8.jsonl --quiet 2>/dev/null || [ $? = 3 ]
  [ "$(wc -l < int8.jsonl)" = "$(wc -l < quiet.jsonl)" ] || { echo "FAIL: --experts int8 wrote $(wc -l < int8.jsonl) lines"; exit 1; }
fi
set +e; "$LJ" run --model "$MODEL" --experts int4 req.jsonl -o bad.jsonl --quiet 2> bad.err; rc=$?; set -e
[ $rc = 2 ] && grep -q -- "--experts wants auto, int8 or bf16" bad.err || { echo "FAIL: --experts int4 ($rc)"; cat bad.err; exit 1; }
echo "ok: --experts"
set +e; "$LJ" run --model "$MODEL" req.jsonl -o ./req.jsonl --quiet 2>/dev/null; rc=$?; set -e
[ $rc = 2 ] || { echo "FAIL: writing results into the requests file was not refused ($rc)"; exit 1; }

# --deadline: what is unfinished gets OpenAI's top-level error (response null), exit 3;
# --retry-errors without a deadline then completes the batch exactly
if [ "$MODEL" = toy ]; then
  python3 -c "import sys; sys.path.insert(0, '$HERE'); import check; check.make_requests('dl.jsonl', 150, malformed=False, max_tokens=(100, 200))"
  "$LJ" run --model toy:16384 --max-context 512 dl.jsonl -o dl_ref.jsonl --quiet
  set +e; "$LJ" run --model toy:16384 --max-context 512 dl.jsonl -o dl_out.jsonl --quiet --deadline 0.1; rc=$?; set -e
  [ $rc = 3 ] || [ $rc = 1 ] || { echo "FAIL: --deadline exit $rc"; exit 1; }
  python3 - <<'PY'
import json
ex = [json.loads(l) for l in open("dl_out.jsonl") if "batch_expired" in l]
assert ex, "nothing expired"
assert all(j["response"] is None and set(j["error"]) == {"code", "message"} and j["error"]["code"] == "batch_expired" for j in ex), ex[0]
print(len(ex), "expired")
PY
  "$LJ" run --model toy:16384 --max-context 512 dl.jsonl -o dl_out.jsonl --quiet --retry-errors
  $CHECK same dl_ref.jsonl dl_out.jsonl
  echo "ok: --deadline + --retry-errors"
fi

# no max_tokens: generation may run to the end of the context (64 tokens here)
printf '%s\n' '{"custom_id":"long","method":"POST","url":"/v1/completions","body":{"prompt":"a b c"}}' > long.jsonl
"$LJ" run --model "$MODEL" --max-context 64 long.jsonl -o long.out 2> long.err
grep -q "to the end of the context (64 tokens)" long.err || { echo "FAIL: defaults not printed"; cat long.err; exit 1; }
python3 - long.out <<'PY'
import json, sys
j = json.loads(open(sys.argv[1]).readline())
b = j["response"]["body"]; u = b["usage"]; c = b["choices"][0]
if c["finish_reason"] == "length":
    assert u["prompt_tokens"] + u["completion_tokens"] == 64, u
else:
    assert c["finish_reason"] == "stop" and u["prompt_tokens"] + u["completion_tokens"] <= 64, (c, u)
print("ok: missing max_tokens ->", c["finish_reason"], u)
PY

# qa: 3 documents, 7 questions (by id stem, path and ingest id), one unknown document
for i in 0 1 2; do
  python3 -c "import random; r=random.Random($i); w='the model reads long documents and answers questions about them'.split(); print(' '.join(r.choice(w) for _ in range(60*($i+1))))" > "doc$i.txt"
done
DID=$(python3 -c "
h=0xcbf29ce484222325
for b in b'doc2.txt': h=((h^b)*0x100000001b3)&0xffffffffffffffff
print('d%016x'%h)")
python3 - "$DID" <<'PY'
import json, sys
qs = [("q0", "doc0", "What does it read?"), ("q1", "doc1.txt", "What does it answer?"), ("q2", sys.argv[1], "Which model?"),
      ("q3", "doc0", "How long?"), ("q4", "doc1", "Why?"), ("q5", "doc2", "Where?"), ("q6", "doc0", "Who?"), ("q7", "nodoc", "?")]
with open("q.jsonl", "w") as f:
    for i, d, q in qs:
        f.write(json.dumps({"id": i, "doc": d, "question": q}) + "\n")
PY
set +e
"$LJ" qa --model "$MODEL" --docs doc0.txt doc1.txt doc2.txt --questions q.jsonl -o qa.jsonl --max-answer-tokens 6 --quiet --max-context 2048; rc=$?
set -e
[ $rc = 3 ] || { echo "FAIL: qa exit $rc, want 3"; exit 1; }
python3 - <<PY
import sys; sys.path.insert(0, "$HERE")
import check
got = check.check_qa("qa.jsonl", ["q%d" % i for i in range(8)])
assert "error" in got["q7"] and all("error" not in got["q%d" % i] for i in range(7)), got
assert got["q2"]["doc"] == "$DID", got["q2"]
print("ok: qa")
PY
# a forked document state answers exactly as prefilling document + question afresh
"$LJ" qa --model "$MODEL" --docs doc0.txt doc1.txt doc2.txt --questions q.jsonl -o qa_each.jsonl --max-answer-tokens 6 \
  --quiet --max-context 2048 --prefill-each || [ $? = 3 ]
$CHECK same qa.jsonl qa_each.jsonl
echo "ok: qa fork == prefill each"

# summarize: documents cut into several windows (map, then reduce), and a windows.jsonl
"$LJ" summarize --model "$MODEL" doc0.txt doc1.txt doc2.txt -o sum.jsonl --window-tokens 96 --max-summary-tokens 8 --quiet --max-context 2048
python3 - <<'PY'
import json
with open("win.jsonl", "w") as f:
    for d, n in (("dA", 3), ("dB", 1)):
        for w in range(n):
            f.write(json.dumps({"doc": d, "path": d + ".pdf", "window": w, "text": f"window {w} of {d}: the model reads.",
                                "tokens": 9, "token_range": [w * 9, w * 9 + 9], "char_range": [0, 30], "pages": [w + 1, w + 2]}) + "\n")
PY
"$LJ" summarize --model "$MODEL" win.jsonl -o sumw.jsonl --max-summary-tokens 8 --quiet --max-context 2048
python3 - <<PY
import sys; sys.path.insert(0, "$HERE")
import check
s = check.check_summaries("sum.jsonl", ["doc0.txt", "doc1.txt", "doc2.txt"])
assert s["doc2.txt"]["windows"] > s["doc0.txt"]["windows"] >= 1 and s["doc2.txt"]["windows"] >= 3, s
w = check.check_summaries("sumw.jsonl", ["dA.pdf", "dB.pdf"])
assert w["dA.pdf"]["windows"] == 3 and w["dA.pdf"]["pages"] == 4 and w["dB.pdf"]["windows"] == 1, w
print("ok: summarize")
PY

# many small windows: summaries are combined two or three at a time, level after level, and it ends
"$LJ" summarize --model "$MODEL" doc2.txt -o deep.jsonl --window-tokens 24 --max-summary-tokens 8 --quiet --max-context 2048
python3 - <<PY
import sys; sys.path.insert(0, "$HERE")
import check
s = check.check_summaries("deep.jsonl", ["doc2.txt"])["doc2.txt"]
# every call writes at most 8 tokens and each reduce level at least halves the list: < 2 x windows calls
assert s["windows"] >= 8 and s["tokens_out"] <= 8 * 2 * s["windows"], s
print("ok: multi-level reduce over", s["windows"], "windows")
PY
set +e; "$LJ" summarize --model "$MODEL" doc2.txt -o never.jsonl --window-tokens 12 --max-summary-tokens 8 --quiet 2> never.err; rc=$?; set -e
[ $rc = 1 ] && grep -q "cannot combine two summaries" never.err || { echo "FAIL: a window that cannot hold two summaries was accepted ($rc)"; exit 1; }

# real documents: `longjam ingest` windows of a PDF and a TEI file, and documents given directly,
# one of them broken (its own error line, the others go on; exit 3)
SAMPLES=$HERE/../../samples/docs
TOK=${LJ_FIXTURES:-$HERE/../../../shared/fixtures}/models/tiny-chat/tokenizer.json
if [ -f "$TOK" ] && [ -f "$SAMPLES/pari-parallel.pdf" ]; then
  "$LJ" ingest "$SAMPLES/pari-parallel.pdf" "$SAMPLES/gettysburg.tei.xml" --tokenizer "$TOK" --window 1500 -o ingest.jsonl 2>/dev/null
  "$LJ" summarize --model "$MODEL" ingest.jsonl -o sumi.jsonl --max-summary-tokens 8 --quiet --max-context 2048
  head -c 3000 /dev/urandom > broken.pdf
  set +e
  "$LJ" summarize --model "$MODEL" "$SAMPLES/gettysburg.tei.xml" broken.pdf doc0.txt -o sumd.jsonl --max-summary-tokens 8 --quiet --max-context 2048; rc=$?
  set -e
  [ $rc = 3 ] || { echo "FAIL: summarize with a broken document exit $rc, want 3"; exit 1; }
  python3 - "$SAMPLES" <<PY
import json, sys; sys.path.insert(0, "$HERE")
import check
w = [json.loads(l) for l in open("ingest.jsonl")]
paths = sorted(set(x["path"] for x in w))
s = check.check_summaries("sumi.jsonl", paths)
pdf = [p for p in paths if p.endswith(".pdf")][0]
assert s[pdf]["windows"] == sum(1 for x in w if x["path"] == pdf) > 1 and s[pdf]["pages"] == 13, s[pdf]
assert s[pdf]["doc"] == w[0]["doc"], (s[pdf]["doc"], w[0]["doc"])
d = {j["path"]: j for j in check.load("sumd.jsonl")}
assert len(d) == 3 and "error" in d["broken.pdf"] and d["broken.pdf"]["summary"] is None, d.get("broken.pdf")
assert all(isinstance(d[p]["summary"], str) and "error" not in d[p] for p in d if p != "broken.pdf"), d
print("ok: summarize over ingest windows (PDF, TEI) and a broken document")
PY
fi

for c in run qa summarize merge; do
  "$LJ" $c --help > help.txt
  grep -q "usage: longjam $c" help.txt || { echo "FAIL: $c --help"; exit 1; }
done
"$LJ" run --help | grep -q "default 8)" || { echo "FAIL: run --help shows no defaults"; exit 1; }
echo "ok: --help"
