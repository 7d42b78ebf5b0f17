#!/bin/sh
# Packs `longjam` (built here on Debian 12), its CUDA plugin and the shared libraries it needs that
# the GPU machine lacks (jansson, utf8proc, pcre2, poppler-glib, libxml2 and theirs) into one
# compressed tarball, so that the real CLI — batch jobs included — runs on the GPU machine, which has
# no -dev packages. Built without OpenBLAS (the GPU path does not use it; it would not fit `carry`).
# Usage: bench/pack_for_device.sh [OUTDIR]   (default .devcli; carry it, then on the GPU machine:
#   tar xJf .devcli/longjam.tar.xz -C /tmp && export LD_LIBRARY_PATH=/tmp/longjam/lib \
#   && /tmp/longjam/longjam qa --device cuda ...)
set -eu
out=${1:-.devcli}
build=${BUILD:-build-devcli}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DLONGJAM_OPENBLAS=OFF -DLONGJAM_CUDA=ON >/dev/null
cmake --build "$build" -j2 --target longjam longjam-cuda >/dev/null
stage=$(mktemp -d)/longjam
mkdir -p "$stage/lib" "$out"
cp "$build/cli/longjam" "$stage/"
[ -f "$build/cli/liblongjam-cuda.so" ] && cp "$build/cli/liblongjam-cuda.so" "$stage/"
# everything ldd names except the C runtime and what the CUDA toolkit provides there
ldd "$build/cli/longjam" | awk '$3 ~ /^\// {print $3}' |
  grep -Ev '/(libc|libm|libpthread|libdl|librt|ld-linux-x86-64|libgcc_s|libstdc\+\+)\.so' |
  while read -r lib; do cp -L "$lib" "$stage/lib/"; done
tar -C "$(dirname "$stage")" -cJf "$out/longjam.tar.xz" longjam
rm -rf "$(dirname "$stage")"
ls -la "$out/longjam.tar.xz"
