# Run 4 of the sample model: continue from run 3 (samples/model) with longjam
# summarize's prompts (extractive lead targets) and longjam eval ruler's NIAH template added to the mix.
# device run: command "bash .train/run4.sh", carry [".train"], timeout_s 600.
set -o pipefail
export PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=false
cd .train
timeout 560 python3 train-sample-model --corpus debian-text-big.jsonl --tokenizer tokenizer.json --init ../samples/model \
  --out $OUT/model --train-seconds 390 --lr 1.5e-3 --lm-weight 0.05 \
  --lengths 256,512,1024,2048,4096 --length-probs 0.15,0.25,0.25,0.2,0.15 \
  --kind-probs 0.14,0.12,0.05,0.05,0.08,0.2,0.04,0.1,0.08,0.04,0.05,0.05 \
  --eval-n 60 --eval-lengths 2048,4096,16384 \
  --workers 12 --shards 2 --save-every 120 2>&1 | grep --line-buffered -v "Loading weights" | tee $OUT/log.txt
