#!/usr/bin/env bash
# The Slurm job-array sample for real, on a throwaway single-node cluster (../shared/tools/slurm-local):
# sbatch --array=0-2 --wait runs three shards; `longjam merge` of their outputs equals one unsharded
# run. Skips (77) when Slurm is not installed and cannot be (not root).
set -euo pipefail
LJ=$1 SCRIPT=$2 SLURM_LOCAL=$3
HERE=$(cd "$(dirname "$0")" && pwd)
if ! command -v slurmd >/dev/null && [ "$(id -u)" != 0 ]; then echo "skip: no slurm and not root"; exit 77; fi
[ -x "$SLURM_LOCAL" ] || { echo "skip: no $SLURM_LOCAL"; exit 77; }
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
chmod 755 "$T"
python3 "$HERE/check.py" make-requests "$T/req.jsonl" 24 1 >/dev/null
"$LJ" run --model toy "$T/req.jsonl" --max-context 256 --quiet -o "$T/all.jsonl" || [ $? = 3 ]
cat > "$T/job.sh" <<JOB
#!/usr/bin/env bash
set -euo pipefail
cd "$T"
LONGJAM="$LJ" sbatch --wait --array=0-2 --output="$T/task-%a.log" "$SCRIPT" toy "$T/req.jsonl" "$T/out" --max-context 256 --quiet
JOB
chmod +x "$T/job.sh"
SLURM_TEST_DIR="$T/slurm" "$SLURM_LOCAL" "$T/job.sh"
ls "$T/out"
for i in 0 1 2; do [ -s "$T/out/shard-$i.jsonl" ] || { echo "FAIL: shard $i missing"; cat "$T"/task-*.log; exit 1; }; done
"$LJ" merge "$T/merged.jsonl" "$T"/out/shard-*.jsonl --input "$T/req.jsonl"
python3 "$HERE/check.py" same "$T/all.jsonl" "$T/merged.jsonl"
echo "ok: slurm job array (3 tasks) + merge == unsharded"
