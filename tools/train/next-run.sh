# Run 3 of the sample model (the committed checkpoint): continue from run 2 (init/) on the larger corpus with a short-length curriculum.
# device run: command "bash .train/next-run.sh", carry [".train"], timeout_s 600.
set -o pipefail
export PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=false
cd .train
timeout 545 python3 train-sample-model --corpus debian-text-big.jsonl --tokenizer tokenizer.json --init init \
  --out $OUT/model --train-seconds 420 --lr 2e-3 --lm-weight 0.05 \
  --curriculum-lengths 128,256 --curriculum-frac 0.2 \
  --lengths 256,512,1024,2048,4096 --length-probs 0.15,0.25,0.25,0.2,0.15 \
  --kind-probs 0.3,0.3,0.2,0.1,0.1 --eval-n 100 --eval-lengths 2048,4096,8192,16384 \
  --workers 12 --shards 2 --save-every 120 2>&1 | grep --line-buffered -v "Loading weights" | tee $OUT/log.txt
