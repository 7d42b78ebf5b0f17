#!/usr/bin/env bash
# Kill and resume: SIGKILL the batch at a random point (after a random number of result lines, while
# work is in flight), rerun the same command, and get exactly the lines of an uninterrupted run with
# no duplicate (compared sorted by custom_id, ignoring "created"); a torn last line is cut off and
# redone; a third run adds nothing; SIGTERM stops with exit 4 and the rerun completes; --retry-errors
# redoes failed lines only; --overwrite starts afresh. Same for qa (by question id).
# usage: kill_resume.sh LONGJAM MODEL [EXTRA_ARGS]: EXTRA_ARGS (e.g. "--replicas 3") go to every
# run but the uninterrupted references, which run one replica.
set -euo pipefail
LJ=$1 MODEL=$2
read -r -a EXTRA <<<"${3:-}"
HERE=$(cd "$(dirname "$0")" && pwd)
CHECK="python3 $HERE/check.py"
if [ "$MODEL" != toy ] && "$LJ" run --model "$MODEL" /dev/null -o /dev/null --quiet 2>&1 | grep -q "no engine"; then
  echo "skip: engine not built"; exit 77
fi
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
cd "$T"
if [ "$MODEL" = toy ]; then N=120; MT="20 50"; M=toy:8192; else N=40; MT="4 12"; M=$MODEL; fi
python3 - "$N" "$MT" <<PY
import sys; sys.path.insert(0, "$HERE")
import check
lo, hi = map(int, sys.argv[2].split())
check.make_requests("req.jsonl", int(sys.argv[1]), seed=7, malformed=True, max_tokens=(lo, hi))
PY
ARGS=(run --model "$M" req.jsonl --max-context 512 --max-seqs 4 --quiet)
"$LJ" "${ARGS[@]}" -o ref.jsonl || [ $? = 3 ]
TOTAL=$(wc -l < ref.jsonl)
ARGS+=("${EXTRA[@]}")

# SIGKILL at a random number of lines, three times in a row, then finish
SEED=${LJ_TEST_SEED:-$RANDOM}
echo "kill seed $SEED"
python3 - "$LJ" "$TOTAL" "$SEED" "${ARGS[@]}" -o out.jsonl <<'PY'
import os, random, signal, subprocess, sys, time
lj, total, seed, args = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
rnd = random.Random(seed)
def lines():
    try:
        with open("out.jsonl", "rb") as f:
            return f.read().count(b"\n")
    except FileNotFoundError:
        return 0
kills = 0
for attempt in range(3):
    have = lines()
    if have >= total - 1:
        break
    target = rnd.randint(have + 1, max(have + 1, min(total - 1, have + total // 3)))
    p = subprocess.Popen([lj] + args)
    while p.poll() is None and lines() < target:
        time.sleep(0.0005)
    if p.poll() is None:
        p.send_signal(signal.SIGKILL)
        p.wait()
        kills += 1
        print(f"killed at {lines()} of {total} lines (target {target})")
    else:
        print(f"run ended before the kill point ({lines()} lines)")
if kills == 0:
    print("FAIL: never killed mid-run"); sys.exit(1)
PY
"$LJ" "${ARGS[@]}" -o out.jsonl || [ $? = 3 ]
$CHECK same ref.jsonl out.jsonl
python3 - <<'PY'
import json
ids = [json.loads(l)["id"] for l in open("out.jsonl")]
assert len(ids) == len(set(ids)), "duplicate lines after resume"
PY
echo "ok: SIGKILL + resume == uninterrupted, no duplicates"

# a torn last line (a write cut in half) is cut off and redone
head -c -40 ref.jsonl > torn.jsonl
"$LJ" "${ARGS[@]}" -o torn.jsonl 2> torn.err || [ $? = 3 ]
$CHECK same ref.jsonl torn.jsonl
# a rerun of a complete output adds nothing
cp torn.jsonl again.jsonl
"$LJ" "${ARGS[@]}" -o again.jsonl || [ $? = 3 ]
cmp again.jsonl torn.jsonl
echo "ok: torn last line, idempotent rerun"

# SIGTERM: stop admitting, finish in flight, flush, exit 4; the rerun completes
"$LJ" "${ARGS[@]}" -o term.jsonl & pid=$!
for _ in $(seq 2000); do [ -s term.jsonl ] && break; sleep 0.001; done
kill -TERM $pid
set +e; wait $pid; rc=$?; set -e
if [ $rc != 4 ] && [ "$(wc -l < term.jsonl)" != "$TOTAL" ]; then echo "FAIL: SIGTERM exit $rc"; exit 1; fi
echo "SIGTERM: exit $rc with $(wc -l < term.jsonl) of $TOTAL lines"
"$LJ" "${ARGS[@]}" -o term.jsonl || [ $? = 3 ]
$CHECK same ref.jsonl term.jsonl
echo "ok: SIGTERM exit 4 + resume"

# SIGTERM while the request pipe is idle (writer still open, no data): exits 4 at once with all done
mkfifo fifo
"$LJ" "${ARGS[@]/req.jsonl/fifo}" -o fifo.jsonl & pid=$!
exec 3>fifo
cat req.jsonl >&3
for _ in $(seq 3000); do [ "$(cat fifo.jsonl 2>/dev/null | wc -l)" -ge "$TOTAL" ] && break; sleep 0.01; done
kill -TERM $pid
set +e; wait $pid; rc=$?; set -e
exec 3>&-
[ $rc = 4 ] || { echo "FAIL: SIGTERM on an idle pipe: exit $rc"; exit 1; }
$CHECK same ref.jsonl fifo.jsonl
echo "ok: SIGTERM with an idle input pipe"

# --retry-errors redoes only failed lines (7 malformed ones fail again, same lines); --overwrite restarts
"$LJ" "${ARGS[@]}" -o term.jsonl --retry-errors 2> retry.err || [ $? = 1 ]   # 1: every redone line failed again
$CHECK same ref.jsonl term.jsonl
grep -q "7 error lines removed" retry.err || { echo "FAIL: --retry-errors did not redo the 7 error lines"; cat retry.err; exit 1; }
"$LJ" "${ARGS[@]}" -o term.jsonl --overwrite || [ $? = 3 ]
$CHECK same ref.jsonl term.jsonl
echo "ok: --retry-errors, --overwrite"

# qa: resume by question id after a SIGKILL
for i in 0 1 2 3; do python3 -c "print(' '.join(['word%d' % (k % 17) for k in range(40 * ($i + 1))]))" > d$i.txt; done
python3 -c "
import json
with open('q.jsonl', 'w') as f:
    for i in range(24): f.write(json.dumps({'id': 'q%d' % i, 'doc': 'd%d' % (i % 4), 'question': 'what is %d?' % i}) + '\n')"
QA=(qa --model "$M" --docs d0.txt d1.txt d2.txt d3.txt --questions q.jsonl --max-answer-tokens 24 --max-context 2048 --quiet)
"$LJ" "${QA[@]}" -o qa_ref.jsonl
QA+=("${EXTRA[@]}")
"$LJ" "${QA[@]}" -o qa.jsonl & pid=$!
for _ in $(seq 5000); do [ "$(cat qa.jsonl 2>/dev/null | wc -l)" -ge 5 ] && break; sleep 0.0005; done
kill -9 $pid 2>/dev/null || true; wait $pid 2>/dev/null || true
echo "qa killed at $(wc -l < qa.jsonl) of 24 lines"
"$LJ" "${QA[@]}" -o qa.jsonl
$CHECK same qa_ref.jsonl qa.jsonl
echo "ok: qa resume"
