#!/bin/bash
# device run 3: op tests + sanitizer, model parity (engine, --device cuda), CLI logits, op bench, model bench, HF
cd "$(dirname "$0")"
export LD_LIBRARY_PATH=$PWD/lib:$LD_LIBRARY_PATH
./bin/test_cuda_ops > $OUT/ops.log 2>&1; echo "ops rc=$?"; grep -E "FAIL|checks" $OUT/ops.log
timeout 150 compute-sanitizer --tool memcheck --leak-check no ./bin/test_cuda_ops > $OUT/sanitizer.log 2>&1; echo "sanitizer ops rc=$?"; grep -E "ERROR SUMMARY" $OUT/sanitizer.log
timeout 60 compute-sanitizer --tool memcheck --leak-check no ./bin/test_cuda_model fixtures/tiny-bf16 >> $OUT/sanitizer.log 2>&1; echo "sanitizer model rc=$?"; grep -E "ERROR SUMMARY" $OUT/sanitizer.log | tail -1
for f in fixtures/*; do timeout 60 ./bin/test_cuda_model $f >> $OUT/model.log 2>&1; echo "model $(basename $f) rc=$?"; done
grep -E "one pass|chunk 7|greedy|FAIL|load" $OUT/model.log | head -60
./bin/longjam logits --model fixtures/tiny-bf16 --input fixtures/tiny-bf16/reference.safetensors --out /tmp/l.safetensors --device cuda --chunk 64; echo "logits cli rc=$?"
python3 -c "
from safetensors.torch import load_file; a=load_file('/tmp/l.safetensors')['logits']; r=load_file('fixtures/tiny-bf16/reference.safetensors')['logits']
print('longjam logits --device cuda tiny-bf16 chunk 64: rel err %.4g (max|a-r|/max|r|)' % ((a-r).abs().max()/r.abs().max()))"
timeout 150 ./bin/ljc_bench --device cuda --shape jamba-1.5-mini --op all > $OUT/opbench.log 2>&1; echo "opbench rc=$?"
timeout 240 ./bin/ljc_bench --device cuda --shape jamba-1.5-mini --synthetic --layers 16 --context 4096,32768,131072 --chunk 8192 --decode 64 --batch 1,8 > $OUT/bench16.log 2>&1; echo "bench16 rc=$?"
timeout 100 ./bin/ljc_bench --device cuda --shape jamba-1.5-mini --synthetic --layers 8 --context 4096,16384 --chunk 8192 --decode 16 --batch 1 > $OUT/bench8.log 2>&1; echo "bench8 rc=$?"
timeout 150 python3 hf_jamba_bench.py --layers 8 --context 4096,16384 --ours $OUT/bench8.log > $OUT/hf.log 2>&1; echo "hf rc=$?"
cat $OUT/opbench.log $OUT/bench8.log; grep -v "^\[transformers\]" $OUT/hf.log; cat $OUT/bench16.log
