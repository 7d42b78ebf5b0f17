#!/bin/bash
# device run: op tests, sanitizer, op bench, model bench, torch + transformers comparisons
cd "$(dirname "$0")"
nvidia-smi --query-gpu=name,memory.used,memory.total,clocks.sm --format=csv,noheader
./bin/test_cuda_ops > $OUT/ops.log 2>&1; echo "ops rc=$?"; grep -E "nmse|FAIL|checks" $OUT/ops.log | tail -30
timeout 200 compute-sanitizer --tool memcheck --leak-check no ./bin/test_cuda_ops > $OUT/sanitizer.log 2>&1; echo "sanitizer rc=$?"; grep -E "ERROR SUMMARY|checks" $OUT/sanitizer.log
timeout 120 ./bin/ljc_bench --device cuda --shape jamba-1.5-mini --op all > $OUT/opbench.log 2>&1; echo "opbench rc=$?"
timeout 300 ./bin/ljc_bench --device cuda --shape jamba-1.5-mini --synthetic --layers 16 --context 4096,32768,131072 --chunk 8192 --decode 64 --batch 1,8 > $OUT/bench16.log 2>&1; echo "bench16 rc=$?"
timeout 100 ./bin/ljc_bench --device cuda --shape jamba-1.5-mini --synthetic --layers 8 --context 4096,16384 --chunk 8192 --decode 16 --batch 1 > $OUT/bench8.log 2>&1; echo "bench8 rc=$?"
timeout 100 python3 torch_ops.py > $OUT/torch_ops.log 2>&1; echo "torch rc=$?"
timeout 150 python3 hf_jamba_bench.py --layers 8 --context 4096 --ours $OUT/bench8.log > $OUT/hf.log 2>&1; echo "hf rc=$?"
cat $OUT/opbench.log $OUT/torch_ops.log $OUT/bench8.log $OUT/hf.log | grep -v "^\[transformers\]"; cat $OUT/bench16.log
