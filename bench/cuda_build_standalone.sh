#!/bin/sh
# Builds the CUDA op test and the standalone GPU benchmark without CMake or the engine's Debian
# dependencies, for a GPU machine that has only the CUDA toolkit: kernels/cuda + common + the
# test/bench sources. Usage: bench/cuda_build_standalone.sh OUTDIR (run from the repository root).
# Binaries link cudart statically and cuBLAS dynamically. They carry the CUDA backend linked in
# (kernels/cuda/plugin.c), so lj_backend_open("cuda") needs no liblongjam-cuda.so; the script also
# builds that plugin (OUTDIR/liblongjam-cuda.so) to place beside a `longjam` built elsewhere.
set -eu
out=${1:-build-standalone}
mkdir -p "$out/obj"
NVCC=${NVCC:-nvcc}
ARCH="-gencode=arch=compute_90a,code=sm_90a -gencode=arch=compute_90,code=compute_90"
# NCCL (comm_nccl.cu) where the toolkit has nccl.h; libnccl is opened at run time (dlopen)
NCCL_DEF=""; NCCL_LIB="-ldl"
nvcc_dir=$(dirname "$(command -v "$NVCC")")
if [ -f "$nvcc_dir/../include/nccl.h" ] || [ -f /usr/include/nccl.h ]; then NCCL_DEF="-DLONGJAM_HAVE_NCCL=1"; fi
pids=""
for f in kernels/cuda/*.cu; do
  $NVCC -O2 $ARCH $NCCL_DEF -Xcompiler -fPIC -I. -c "$f" -o "$out/obj/$(basename "$f").o" &
  pids="$pids $!"
done
for p in $pids; do wait "$p"; done   # a failed compile fails the build (set -e), not a stale object
CFLAGS="-O2 -std=gnu11 -I. -DLONGJAM_HAVE_CUDA=1 -I${CUDA_HOME:-/usr/local/cuda}/include"
for f in common/*.c kernels/*.c kernels/cpu/*.c kernels/cuda/*.c tests/test_util.c tests/cuda/test_cuda_ops.c cli/bench_cuda.c bench/ljc_bench_main.c; do
  [ -f "$f" ] && cc $CFLAGS -fPIC -c "$f" -o "$out/obj/$(echo "$f" | tr / _).o"
done
CUOBJ="$out/obj/*.cu.o $out/obj/kernels_cuda_*.c.o"
KOBJ=$(for f in kernels/*.c kernels/cpu/*.c; do printf '%s ' "$out/obj/$(echo "$f" | tr / _).o"; done)
$NVCC -o "$out/test_cuda_ops" $CUOBJ "$out"/obj/common_*.o "$out"/obj/tests_*.o -lcublas -lcublasLt $NCCL_LIB -lm
if [ -f "$out/obj/cli_bench_cuda.c.o" ]; then
  $NVCC -o "$out/ljc_bench" $CUOBJ "$out"/obj/common_*.o $KOBJ \
    "$out"/obj/cli_bench_cuda.c.o "$out"/obj/bench_ljc_bench_main.c.o -lcublas -lcublasLt $NCCL_LIB -lm -lpthread -ldl
fi
$NVCC -shared -o "$out/liblongjam-cuda.so" $CUOBJ -Xlinker --version-script=kernels/cuda/plugin.map -lcublas -lcublasLt $NCCL_LIB
echo "built into $out"
