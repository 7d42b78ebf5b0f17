#!/bin/sh
# Builds the CUDA op test and the standalone GPU benchmark without CMake or the engine's Debian
# dependencies, for a GPU machine that has only the CUDA toolkit: kernels/cuda + common + the
# test/bench sources. Usage: bench/cuda_build_standalone.sh OUTDIR (run from the repository root).
# Binaries link cudart statically and cuBLAS dynamically.
set -eu
out=${1:-build-standalone}
mkdir -p "$out/obj"
NVCC=${NVCC:-nvcc}
ARCH="-gencode=arch=compute_90a,code=sm_90a -gencode=arch=compute_90,code=compute_90"
for f in kernels/cuda/*.cu; do
  $NVCC -O2 $ARCH -I. -c "$f" -o "$out/obj/$(basename "$f").o" &
done
wait
CFLAGS="-O2 -std=gnu11 -I. -DLONGJAM_HAVE_CUDA=1 -I${CUDA_HOME:-/usr/local/cuda}/include"
for f in common/*.c tests/test_util.c tests/cuda/test_cuda_ops.c cli/bench_cuda.c bench/ljc_bench_main.c; do
  [ -f "$f" ] && cc $CFLAGS -c "$f" -o "$out/obj/$(echo "$f" | tr / _).o"
done
$NVCC -o "$out/test_cuda_ops" "$out"/obj/*.cu.o "$out"/obj/common_*.o "$out"/obj/tests_*.o -lcublas -lm
if [ -f "$out/obj/cli_bench_cuda.c.o" ]; then
  $NVCC -o "$out/ljc_bench" "$out"/obj/*.cu.o "$out"/obj/common_*.o "$out"/obj/cli_bench_cuda.c.o \
    "$out"/obj/bench_ljc_bench_main.c.o -lcublas -lm
fi
echo "built into $out"
