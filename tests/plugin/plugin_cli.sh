#!/usr/bin/env bash
# The CUDA backend is a plugin (kernels/backend_open.h): the longjam executable links no CUDA
# library, and `--device cuda` either runs (a GPU and the plugin are there: logits match the
# reference) or fails with a clear message and exit status 1..127 (not a signal, not success).
# usage: plugin_cli.sh LONGJAM CUDA_BUILT(0|1) FAKE_PLUGIN FIXTURE_DIR
set -u
LJ=$1 BUILT=$2 FAKE=$3 FX=$4
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
fail=0
bad() { echo "FAILED: $*" >&2; fail=1; }

# 1. no CUDA library in the executable's dependencies
if ldd "$LJ" | grep -Ei 'libcu(blas|blasLt|dart|da)\.so' ; then bad "longjam links CUDA libraries (above)"; fi
if [ "$BUILT" = 1 ]; then
  [ -f "$(dirname "$LJ")/liblongjam-cuda.so" ] || bad "no liblongjam-cuda.so beside $LJ"
fi

# expect_error NAME PATTERN CMD...: CMD exits 1..127 and its stderr matches PATTERN
expect_error() {
  local name=$1 pat=$2; shift 2
  "$@" >"$TMP/out" 2>"$TMP/err"; local rc=$?
  if [ $rc -eq 0 ] || [ $rc -ge 128 ]; then bad "$name: exit status $rc (want a clean failure)"; cat "$TMP/err" >&2; return; fi
  grep -Eq "$pat" "$TMP/err" || { bad "$name: stderr does not match /$pat/:"; cat "$TMP/err" >&2; return; }
  echo "ok $name: $(head -c 300 "$TMP/err")"
}

run_cuda() { "$LJ" logits --model "$FX" --input "$FX/reference.safetensors" --out "$TMP/cuda.safetensors" --device cuda; }

# 2. --device cuda: runs on a GPU, otherwise a clear error
if [ -f "$FX/reference.safetensors" ]; then
  run_cuda >"$TMP/out" 2>"$TMP/err"; rc=$?
  if [ $rc -eq 0 ]; then
    [ "$BUILT" = 1 ] || bad "--device cuda succeeded without a CUDA build"
    [ -s "$TMP/cuda.safetensors" ] || bad "--device cuda: exit 0 but no output"
    echo "ok --device cuda ran on a GPU"
  elif [ "$BUILT" = 1 ]; then
    expect_error "no GPU" 'no CUDA device: ' run_cuda
  else
    expect_error "not built" 'CUDA backend not built \(no nvcc at build time\)' run_cuda
  fi
fi
if [ "${rc:-1}" = 0 ]; then
  "$LJ" info --model "$FX" --device cuda | grep -q '^backend: cuda' || bad "info --device cuda: no 'backend: cuda' line"
else   # info plans for an absent GPU; it names why the backend did not open
  out=$("$LJ" info --model "$FX" --device cuda 2>&1) || bad "info --device cuda without a GPU failed: $out"
  echo "$out" | grep -Eq 'not available here.*(no CUDA device: |CUDA backend not built)' ||
    bad "info --device cuda: no reason given: $(echo "$out" | grep backend)"
fi

# 3. a plugin path that does not load, a library without the entry point, a stale plugin
if [ -f "$FX/reference.safetensors" ]; then
  expect_error "missing plugin" 'cannot load liblongjam-cuda.so: .*nonexistent' env LONGJAM_CUDA_PLUGIN="$TMP/nonexistent.so" \
    "$LJ" logits --model "$FX" --input "$FX/reference.safetensors" --out "$TMP/x.safetensors" --device cuda
  libm=$(ldd "$LJ" | awk '/libm\.so/ {print $3; exit}')
  [ -n "$libm" ] && expect_error "no entry point" 'no lj_backend_plugin_v1 entry point' env LONGJAM_CUDA_PLUGIN="$libm" \
    "$LJ" logits --model "$FX" --input "$FX/reference.safetensors" --out "$TMP/x.safetensors" --device cuda
  expect_error "stale plugin" 'built for backend ABI [0-9]+ .*rebuild both' env LONGJAM_CUDA_PLUGIN="$FAKE" \
    "$LJ" logits --model "$FX" --input "$FX/reference.safetensors" --out "$TMP/x.safetensors" --device cuda
fi

# 4. CPU commands still work and never touch the plugin (a broken plugin path is not read)
LONGJAM_CUDA_PLUGIN="$TMP/nonexistent.so" "$LJ" version >/dev/null || bad "longjam version failed"
exit $fail
