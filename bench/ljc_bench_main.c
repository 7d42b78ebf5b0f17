/* Standalone GPU benchmark (no engine, no Debian dependencies): the same code as
 * `longjam bench --device cuda`, for GPU machines that have only the CUDA toolkit.
 * Built by bench/cuda_build_standalone.sh. */
int bench_cuda_main(int argc, char **argv);

int main(int argc, char **argv) { return bench_cuda_main(argc, argv); }
