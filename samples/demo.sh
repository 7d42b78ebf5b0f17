#!/usr/bin/env bash
# The README's main job on the bundled sample model (samples/model) and documents:
#   1. longjam qa: questions about real documents with hidden facts; each answer is printed beside
#      the expected one (samples/qa/expected.jsonl);
#   2. longjam summarize: summaries of the sample PDF/HTML/XML/text documents (samples/docs).
# Any Jamba checkpoint directory works the same way: MODEL=/path/to/Jamba-1.5-Mini samples/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
LJ=${LONGJAM:-build/cli/longjam}
MODEL=${MODEL:-samples/model}
OUT=${OUT:-build/demo}
mkdir -p "$OUT"

if [ ! -f "$MODEL/model.safetensors" ] && [ ! -f "$MODEL/model.safetensors.index.json" ]; then
  echo "demo: no weights in $MODEL (see samples/model/README.md)" >&2
  exit 1
fi

field() {   # field NAME < one JSON line: the string value of "NAME" (our own simple output lines)
  sed -n "s/.*\"$1\": *\"\(\([^\"\\\\]\|\\\\.\)*\)\".*/\1/p"
}

echo "== longjam qa --model $MODEL --docs samples/qa/*.txt --questions samples/qa/questions.jsonl"
"$LJ" qa --model "$MODEL" --docs samples/qa/*.txt --questions samples/qa/questions.jsonl \
  --instruction $'\n\nQuestion: ' --ordered --overwrite -o "$OUT/qa.jsonl"
right=0; total=0
while IFS= read -r line; do
  id=$(field id <<<"$line"); q=$(field question <<<"$line"); a=$(field answer <<<"$line")
  want=$(grep -F "\"id\": \"$id\"" samples/qa/expected.jsonl | field answer)
  total=$((total + 1))
  if [ "$(tr -d ' ' <<<"$a")" = "$(tr -d ' ' <<<"$want")" ]; then mark=right; right=$((right + 1)); else mark=WRONG; fi
  printf '  %-14s %-58s -> %-32s (%s; expected %s)\n' "$id" "$q" "$a" "$mark" "$want"
done < "$OUT/qa.jsonl"
echo "  $right of $total answers right"

echo
echo "== longjam summarize --model $MODEL samples/docs/zlib_how.html samples/docs/gettysburg.tei.xml"
"$LJ" summarize --model "$MODEL" samples/docs/zlib_how.html samples/docs/gettysburg.tei.xml \
  --ordered --overwrite -o "$OUT/summaries.jsonl"
cat "$OUT/summaries.jsonl"
echo
echo "results: $OUT/qa.jsonl, $OUT/summaries.jsonl"
