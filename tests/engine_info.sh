#!/usr/bin/env bash
# `longjam info` on Jamba-v0.1's config alone: parameter counts equal transformers' (meta device,
# see tests/fixtures/config-jamba-v0.1/README.md), KV cache 4 layers x 2 x 8 heads x 128 x 4 B per token,
# Mamba state 28 layers x 8192 x (3 + 16) x 4 B per sequence.
# usage: engine_info.sh LONGJAM DIR
set -u
out=$("$1" info --model "$2") || { echo "info failed"; exit 1; }
fail=0
for want in "51570323328 total, 12110311296 active per token" "kv cache: 32768 bytes per token" \
            "recurrent state (conv + ssm): 17432576 bytes per sequence" "(4 attention + 28 mamba layers, 16 MoE + 16 dense FFNs)"; do
  grep -qF "$want" <<<"$out" || { echo "missing: $want"; fail=1; }
done
[ $fail = 0 ] && echo "engine_info: ok"
exit $fail
