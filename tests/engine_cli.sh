#!/usr/bin/env bash
# CLI contracts of the engine commands on one fixture: `longjam logits` (one pass and chunked,
# with --hidden) against reference.safetensors within 1e-4 × max|ref|, `longjam generate` ids
# identical to greedy_ids (also with --tp 2), `longjam info` naming the layer plan, and a clean error for a bad --model.
# usage: engine_cli.sh LONGJAM ENGINE_TOOL FIXTURE_DIR
set -u
LJ=$1 TOOL=$2 FX=$3
[ -f "$FX/reference.safetensors" ] || { echo "SKIP: no $FX"; exit 77; }
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
fail=0
check() { if "$@"; then :; else echo "FAILED: $*" >&2; fail=1; fi; }
# input = the reference itself (it holds input_ids I64 [T])
check "$LJ" logits --model "$FX" --input "$FX/reference.safetensors" --out "$TMP/one.safetensors" --hidden --threads 2
check "$TOOL" compare "$TMP/one.safetensors" "$FX/reference.safetensors" logits 1e-4
check "$TOOL" compare "$TMP/one.safetensors" "$FX/reference.safetensors" hidden_states 1e-4
check "$LJ" logits --model "$FX" --input "$FX/reference.safetensors" --out "$TMP/ch.safetensors" --chunk 7 --hidden
check "$TOOL" compare "$TMP/ch.safetensors" "$FX/reference.safetensors" logits 1e-4
check "$TOOL" compare "$TMP/ch.safetensors" "$TMP/one.safetensors" logits 1e-5
check "$TOOL" compare "$TMP/ch.safetensors" "$TMP/one.safetensors" hidden_states 1e-5
ids=$("$TOOL" ids "$FX/reference.safetensors" input_ids)
want=$("$TOOL" ids "$FX/reference.safetensors" greedy_ids " ")
n=$(echo "$want" | wc -w)
got=$("$LJ" generate --model "$FX" --ids "$ids" --max-new-tokens "$n" --chunk 5 --ignore-eos)
if [ "$got" != "$want" ]; then echo "generate: got '$got', want '$want'" >&2; fail=1; fi
# --tp 2: tensor parallel (CPU ranks) gives the reference logits and the same greedy ids
check "$LJ" logits --model "$FX" --input "$FX/reference.safetensors" --out "$TMP/tp.safetensors" --tp 2 --chunk 7
check "$TOOL" compare "$TMP/tp.safetensors" "$FX/reference.safetensors" logits 1e-4
check "$TOOL" compare "$TMP/tp.safetensors" "$TMP/one.safetensors" logits 1e-5
got=$("$LJ" generate --model "$FX" --ids "$ids" --max-new-tokens "$n" --chunk 5 --ignore-eos --tp 2)
if [ "$got" != "$want" ]; then echo "generate --tp 2: got '$got', want '$want'" >&2; fail=1; fi
"$LJ" generate --model "$FX" --ids "$ids" --max-new-tokens 1 --tp 3 > /dev/null 2> "$TMP/err3"
check grep -q "is not a multiple of 3" "$TMP/err3"
info=$("$LJ" info --model "$FX")
check grep -q "layer plan" <<<"$info"
check grep -q "active per token" <<<"$info"
check grep -q "kv cache" <<<"$info"
"$LJ" info --model "$TMP/nope" > /dev/null 2> "$TMP/err"; rc=$?
check test "$rc" = 1
check grep -q "nope/config.json" "$TMP/err"
bench=$("$LJ" bench --model "$FX" --prompt-tokens 16 --decode 4 --repeat 1 --threads 2 --chunk 5)
check grep -q "prefill: 16 tokens (chunk 5)" <<<"$bench"
check grep -q "decode:  4 tokens" <<<"$bench"
"$LJ" logits --help | grep -q -- "--hidden" || { echo "logits --help"; fail=1; }
"$LJ" generate --help | grep -q -- "--ignore-eos" || { echo "generate --help"; fail=1; }
[ $fail = 0 ] && echo "engine_cli: ok"
exit $fail
