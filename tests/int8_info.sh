#!/usr/bin/env bash
# `longjam info` memory plans: Jamba-1.5-Mini at 262144 tokens on an 80 GB GPU fits with int8
# experts (KV 4 GiB = 4294967296 B, int8 experts 45097156608 B + scales 33554432 B) and is
# refused with bf16 experts, the message naming --experts int8; a named shape that does not
# exist and a bad --gpu-memory are usage errors; a fixture directory plans on the CPU.
# usage: int8_info.sh LONGJAM
set -u
lj=$1
fail=0
want() { grep -qF -- "$2" <<<"$1" || { echo "missing: $2"; fail=1; }; }

out=$("$lj" info --shape jamba-1.5-mini --context 262144 --device cuda --experts int8 2>&1) || { echo "int8 plan refused: $out"; fail=1; }
want "$out" "KV cache per sequence                    4294967296"
want "$out" "weights: experts                        45097156608"
want "$out" "weights: expert scales                     33554432"
want "$out" "fits"
want "$out" "largest context that fits (experts int8"

out=$("$lj" info --shape jamba-1.5-mini --context 262144 --device cuda --experts auto 2>&1) || { echo "auto plan refused"; fail=1; }
want "$out" "experts int8 (per-channel scales)"

out=$("$lj" info --shape jamba-1.5-mini --context 262144 --device cuda --experts bf16 2>&1)
rc=$?
[ $rc = 1 ] || { echo "bf16 plan: exit $rc, expected 1"; fail=1; }
want "$out" "DOES NOT FIT"
want "$out" "To fit, use int8 experts (--experts int8"
want "$out" "largest context that fits: none"

out=$("$lj" info --shape jamba-1.5-mini --context 262144 --device cuda --seqs 8 --chunk 8192 2>&1)
[ $? = 1 ] || { echo "8 x 256K: expected a refusal"; fail=1; }
want "$out" "fewer sequences (--seqs 5 or less)"

out=$("$lj" info --shape jamba-1.5-large --device cuda --gpu-memory 640 --experts int8 2>&1) || { echo "Large on 640 GiB refused: $out"; fail=1; }
want "$out" "398555145696 total"

"$lj" info --shape jamba-9 >/dev/null 2>&1; [ $? = 2 ] || { echo "unknown shape: expected usage error"; fail=1; }
"$lj" info --shape jamba-1.5-mini --gpu-memory lots >/dev/null 2>&1; [ $? = 2 ] || { echo "bad --gpu-memory: expected usage error"; fail=1; }
[ $fail = 0 ] && echo "int8_info: ok"
exit $fail
