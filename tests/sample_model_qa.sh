#!/usr/bin/env bash
# usage: sample_model_qa.sh LONGJAM MODEL_DIR QA_DIR
# Runs `longjam qa` with the sample model over samples/qa and checks every answer against
# expected.jsonl exactly (after trimming spaces). The prompt framing is the one the model was
# trained on: document, blank line, "Question: " + question (see samples/model/README.md).
set -euo pipefail
LJ=$1 MODEL=$2 QA=$3
[ -f "$MODEL/model.safetensors" ] || exit 77
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$LJ" qa --model "$MODEL" --docs "$QA"/*.txt --questions "$QA/questions.jsonl" \
    --instruction $'\n\nQuestion: ' --max-answer-tokens 32 --threads 2 > "$out" 2>/dev/null
fail=0
while IFS= read -r line; do
    id=$(printf '%s' "$line" | sed -n 's/.*"id": *"\([^"]*\)".*/\1/p')
    want=$(printf '%s' "$line" | sed -n 's/.*"answer": *"\([^"]*\)".*/\1/p')
    got=$(grep "\"id\":\"$id\"" "$out" | sed -n 's/.*"answer":"\([^"]*\)".*/\1/p' | sed 's/^ *//; s/ *$//')
    if [ "$got" = "$want" ]; then echo "ok   $id: $got"; else echo "FAIL $id: got '$got', want '$want'"; fail=1; fi
done < "$QA/expected.jsonl"
exit $fail
