#!/usr/bin/env bash
# Throughput of `longjam run` on many short requests: the same batch with 1 sequence in flight and
# with N (continuous batching), on one model. Prints requests/s and generated tokens/s per setting
# and the speed-up over 1; asserts nothing.
#   bench/pipelines_throughput.sh [LONGJAM] [MODEL] [REQUESTS] [MAX_TOKENS] [THREADS] [N...]
# defaults: build/cli/longjam ../shared/fixtures/models/tiny-chat 256 32 2 4 8 16 32
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LJ=${1:-$ROOT/build/cli/longjam}
MODEL=${2:-$ROOT/../shared/fixtures/models/tiny-chat}
NREQ=${3:-256}
MT=${4:-32}
THREADS=${5:-2}
shift $(( $# < 5 ? $# : 5 ))
SEQS=("$@")
[ ${#SEQS[@]} -gt 0 ] || SEQS=(4 8 16 32)
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
python3 - "$T/req.jsonl" "$NREQ" "$MT" <<'PY'
import json, random, sys
path, n, mt = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
r = random.Random(0)
w = "the of a batch model state window token queue result line memory long short".split()
with open(path, "w") as f:
    for i in range(n):
        msg = " ".join(r.choice(w) for _ in range(r.randint(8, 24)))
        # ignore_eos is not an OpenAI field: fixed lengths come from max_tokens on a model that
        # rarely emits its end id (random weights); the table reports what was generated
        f.write(json.dumps({"custom_id": f"b{i}", "method": "POST", "url": "/v1/chat/completions",
                            "body": {"messages": [{"role": "user", "content": msg}], "max_tokens": mt}}) + "\n")
PY
echo "model $(basename "$MODEL"), $NREQ chat requests, max_tokens $MT, engine threads $THREADS, $(nproc) CPUs"
printf '%-8s %10s %12s %12s %12s %8s\n' in-flight seconds requests/s gen-tok/s prompt-tok/s speedup
base=""
for n in 1 "${SEQS[@]}"; do
  "$LJ" run --model "$MODEL" "$T/req.jsonl" -o "$T/out-$n.jsonl" --overwrite --quiet --max-seqs "$n" \
    --threads "$THREADS" --max-context 512 --budget-tokens $((n * 512)) 2> "$T/err-$n.txt" || true
  line=$(grep '^{"total"' "$T/err-$n.txt" | tail -1)
  read -r secs tout tin done < <(python3 -c "import json,sys; j=json.loads(sys.argv[1]); print(j['seconds'], j['tokens_out'], j['tokens_in'], j['completed'])" "$line")
  [ -n "$base" ] || base=$secs
  python3 -c "
s, to, ti, d, b, n = $secs, $tout, $tin, $done, $base, '$n'
print('%-8s %10.2f %12.1f %12.1f %12.1f %7.2fx' % (n, s, d / s, to / s, ti / s, b / s))"
done
# the outputs must not depend on the number in flight (greedy)
for n in "${SEQS[@]}"; do
  python3 "$ROOT/tests/pipelines/check.py" same "$T/out-1.jsonl" "$T/out-$n.jsonl" || echo "WARNING: outputs with $n in flight differ from 1"
done
