#!/usr/bin/env bash
# A Slurm job array that runs one OpenAI batch file (or qa/summarize) across machines: task i of N
# processes the deterministic 1/N of the requests whose custom_id hashes to i (--shard slurm reads
# SLURM_ARRAY_TASK_ID / SLURM_ARRAY_TASK_COUNT), writing its own shard file. A task that is
# preempted or requeued reruns the same command and resumes from its shard file.
#
#   sbatch --array=0-3 samples/slurm/longjam-array.sh MODEL_DIR requests.jsonl OUT_DIR [longjam run options]
#   # when all tasks are done:
#   longjam merge OUT_DIR/results.jsonl OUT_DIR/shard-*.jsonl --input requests.jsonl
#
# LONGJAM (default: longjam on PATH) names the program.
#SBATCH --job-name=longjam
#SBATCH --requeue
#SBATCH --open-mode=append
#SBATCH --output=longjam-%A_%a.log
set -euo pipefail
MODEL=${1:?model directory} REQUESTS=${2:?requests file} OUT=${3:?output directory}
shift 3
LONGJAM=${LONGJAM:-longjam}
: "${SLURM_ARRAY_TASK_ID:?run this with sbatch --array=0-(N-1)}"
mkdir -p "$OUT"
set +e
"$LONGJAM" run --model "$MODEL" "$REQUESTS" --shard slurm --ordered \
  -o "$OUT/shard-$SLURM_ARRAY_TASK_ID.jsonl" "$@"
rc=$?
set -e
# 3 = finished with some failed lines (they are in the shard file): the task itself succeeded
if [ $rc = 3 ]; then exit 0; fi
exit $rc
