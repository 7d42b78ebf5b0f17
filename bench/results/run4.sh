#!/bin/bash
# device run 4: op tests (bf16 + fp32) + sanitizer, model parity in both precisions, CLI logits, model bench
cd "$(dirname "$0")"
export LD_LIBRARY_PATH=$PWD/lib:$LD_LIBRARY_PATH
./bin/test_cuda_ops > $OUT/ops.log 2>&1; echo "ops rc=$?"; grep -E "FAIL|checks|backend" $OUT/ops.log
timeout 200 compute-sanitizer --tool memcheck --leak-check no ./bin/test_cuda_ops > $OUT/sanitizer.log 2>&1; echo "sanitizer ops rc=$?"; grep -E "ERROR SUMMARY|checks" $OUT/sanitizer.log
timeout 90 compute-sanitizer --tool memcheck --leak-check no ./bin/test_cuda_model fixtures/tiny-bf16 bf16 > $OUT/sanitizer_model.log 2>&1; echo "sanitizer model rc=$?"; grep -E "ERROR SUMMARY" $OUT/sanitizer_model.log
for p in fp32 bf16; do for f in fixtures/*; do timeout 60 ./bin/test_cuda_model $f $p >> $OUT/model.log 2>&1; echo "model $p $(basename $f) rc=$?"; done; done
grep -E "one pass|chunk 1:|greedy:" $OUT/model.log | sed 's|fixtures/||'
for p in fp32 bf16; do LONGJAM_CUDA_PRECISION=$p ./bin/longjam logits --model fixtures/tiny-bf16 --input fixtures/tiny-bf16/reference.safetensors --out /tmp/l_$p.safetensors --device cuda --chunk 64; echo "logits cli $p rc=$?"; done
python3 -c "
from safetensors.torch import load_file
r=load_file('fixtures/tiny-bf16/reference.safetensors')['logits']
for p in ('fp32','bf16'):
    a=load_file('/tmp/l_%s.safetensors'%p)['logits']; print('longjam logits --device cuda (%s) tiny-bf16 chunk 64: rel err %.4g' % (p, (a-r).abs().max()/r.abs().max()))"
./bin/longjam info --model fixtures/tiny-bf16 --device cuda | grep -E "backend|kv cache"
timeout 200 ./bin/ljc_bench --device cuda --shape jamba-1.5-mini --synthetic --layers 16 --context 4096,32768,131072 --chunk 8192 --decode 64 --batch 1,8 > $OUT/bench16.log 2>&1; echo "bench16 rc=$?"
cat $OUT/bench16.log
