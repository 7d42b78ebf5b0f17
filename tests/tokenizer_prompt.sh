#!/bin/bash
# generate/logits with text prompts (cli/prompt.c): the ids a prompt becomes are those of
# `longjam tokenize` (and, with --chat, of the Jamba template), and the printed text is the decode
# of the generated ids. usage: tokenizer_prompt.sh LONGJAM FIXTURES
set -u
LJ=$1; M=$2/models/tiny-chat
[ -f "$M/tokenizer.json" ] || { echo "skip: no $M"; exit 77; }
fail=0
check() { if [ "$2" != "$3" ]; then echo "FAIL $1:"; echo " want: $3"; echo " got:  $2"; fail=1; else echo "ok $1"; fi; }
ids_of() { sed -e 's/.*\[//' -e 's/\].*//' -e 's/ //g'; }

P="Hello world, this is a test."
IDS=$(printf '{"text": "%s"}\n' "$P" | "$LJ" tokenize --tokenizer "$M/tokenizer.json" | ids_of)
A=$("$LJ" generate --model "$M" --ids "$IDS" --max-new-tokens 6 --ignore-eos)
B=$("$LJ" generate --model "$M" --prompt "$P" --max-new-tokens 6 --ignore-eos); rc=$?
check "generate rc" "$rc" 0
check "prompt ids = tokenize ids" "$(echo "$B" | head -1)" "$A"
GEN=$(echo "$A" | tr ' ' ',')
TXT=$(printf '{"ids": [%s]}\n' "$GEN" | "$LJ" tokenize --tokenizer "$M/tokenizer.json" --decode)
WANT=$(printf '%s\n' "$B" | tail -n +2 | python3 -c 'import json,sys; print(json.dumps({"text": sys.stdin.read()[:-1]}))')
check "decoded text" "$WANT" "$TXT"
printf '%s' "$P" > /tmp/lj_prompt_$$.txt
C=$("$LJ" generate --model "$M" --prompt-file /tmp/lj_prompt_$$.txt --tokenizer "$M/tokenizer.json" --max-new-tokens 6 --ignore-eos | head -1)
check "prompt-file" "$C" "$A"
# --chat: the template text encoded without the post-processor
CHAT='<|startoftext|><|bom|><|system|> Be brief.<|eom|><|bom|><|user|> Hi<|eom|><|bom|><|assistant|>'
CIDS=$(printf '{"text": "%s"}\n' "$CHAT" | "$LJ" tokenize --tokenizer "$M/tokenizer.json" --no-special | ids_of)
D=$("$LJ" generate --model "$M" --ids "$CIDS" --max-new-tokens 4 --ignore-eos)
E=$("$LJ" generate --model "$M" --prompt "Hi" --chat --system "Be brief." --max-new-tokens 4 --ignore-eos | head -1)
check "chat ids" "$E" "$D"
"$LJ" logits --model "$M" --prompt "$P" --out /tmp/lj_logits_$$.safetensors; check "logits --prompt rc" "$?" 0
[ -s /tmp/lj_logits_$$.safetensors ]; check "logits written" "$?" 0
"$LJ" generate --model "$M" --prompt "x" --tokenizer /nonexistent.json 2>/dev/null; check "bad tokenizer rc" "$?" 1
"$LJ" generate --model "$M" --prompt "x" --ids 1,2 2>/dev/null; check "prompt and ids rc" "$?" 2
rm -f /tmp/lj_prompt_$$.txt /tmp/lj_logits_$$.safetensors
exit $fail
