#!/bin/bash
# longjam tokenize: JSON lines in/out, order kept, error lines for bad input, exit status, --decode,
# --no-special. usage: tokenizer_cli.sh LONGJAM FIXTURES
set -u
LJ=$1; TOK=$2/tokenizers/jamba-style/tokenizer.json
[ -f "$TOK" ] || { echo "skip: no $TOK"; exit 77; }
fail=0
check() { if [ "$2" != "$3" ]; then echo "FAIL $1:"; echo " want: $3"; echo " got:  $2"; fail=1; else echo "ok $1"; fi; }

out=$(printf '{"text": "Hello world"}\n{"text": ""}\n' | "$LJ" tokenize --tokenizer "$TOK"); rc=$?
check "encode" "$out" "$(printf '{"ids": [1, 305, 613, 455, 368, 2072, 340, 332]}\n{"ids": [1]}')"
check "encode rc" "$rc" 0
out=$(printf '{"text": "Hello world"}\n' | "$LJ" tokenize --tokenizer "$TOK" --no-special)
check "no-special" "$out" '{"ids": [305, 613, 455, 368, 2072, 340, 332]}'
out=$(printf '{"ids": [1, 305, 613, 455, 368, 2072, 340, 332]}\n' | "$LJ" tokenize --tokenizer "$TOK" --decode)
check "decode" "$out" '{"text": "Hello world"}'
# bad lines: not JSON, wrong field, invalid ids; processing goes on; exit 3
out=$(printf 'not json\n{"text": 5}\n{"text": "hello"}\n{"ids": [-1]}\n' | "$LJ" tokenize --tokenizer "$TOK" 2>/dev/null); rc=$?
check "bad lines count" "$(echo "$out" | wc -l)" 4
check "bad line 1" "$(echo "$out" | sed -n 1p | grep -c '"error": "line 1: ')" 1
check "bad line 2" "$(echo "$out" | sed -n 2p | grep -c '"error": "line 2: ')" 1
check "good line 3" "$(echo "$out" | sed -n 3p)" '{"ids": [1, 2303, 455]}'
check "bad line 4" "$(echo "$out" | sed -n 4p | grep -c '"error": "line 4: ')" 1
check "some failed rc" "$rc" 3
out=$(printf '{"ids": [1, 2303, 455]}\n{"ids": ["x"]}\n' | "$LJ" tokenize --tokenizer "$TOK" --decode 2>/dev/null); rc=$?
check "decode bad" "$(echo "$out" | sed -n 2p | grep -c '"error": "line 2: ')" 1
check "decode good" "$(echo "$out" | sed -n 1p)" '{"text": "hello"}'
check "decode rc" "$rc" 3
"$LJ" tokenize --tokenizer /nonexistent.json </dev/null 2>/dev/null; check "missing tokenizer rc" "$?" 1
"$LJ" tokenize </dev/null 2>/dev/null; check "usage rc" "$?" 2
"$LJ" tokenize --help | grep -q "usage: longjam tokenize"; check "help" "$?" 0
exit $fail
