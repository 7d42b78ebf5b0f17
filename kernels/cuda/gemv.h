/* Small-batch GEMV: y[r, n] = Σ_k x[r, k] · W[n, k] (· scale[n] for int8 W) (+ y[r, n]) for a few
 * rows of bf16 activations — decode steps, where every weight byte is read once per token and the
 * op is a pure stream over the weights. Used for the dense projections at <= 2 rows (instead of
 * cuBLAS's split-K GEMMs and their separate reduce kernels) and for the MoE experts at decode,
 * grouped: rows sorted by expert, each expert's rows through its own matrix, expert sizes read on
 * the device (no host wait for the counts).
 *
 * Weights bf16 [N, K] or int8 [N, K] with one fp32 scale per row (ExpertsInt8), row-major, row
 * stride K. fp32 accumulation; y bf16, or fp32 (the router's logits). */
#ifndef LJ_KERNELS_CUDA_GEMV_H
#define LJ_KERNELS_CUDA_GEMV_H

#include <cuda_runtime.h>
#include <stddef.h>

typedef struct ljc_gemv_args {
    int n_groups;                  /* groups (experts); 1 for a plain matrix */
    const int *offs, *cnt;         /* device [n_groups]: first row and row count of each group; NULL:
                                      one group of `rows` rows through w0 */
    const void *const *w;          /* device [n_groups] -> W of each group (NULL entry: another rank's
                                      expert, its rows get zeros); NULL: w0 */
    const float *const *scale;     /* int8: device [n_groups] -> [N] row scales; NULL: scale0 */
    const void *w0;                /* [N, K] the plain matrix */
    const float *scale0;           /* [N] its scales (int8) */
    const void *x; size_t ldx;     /* [rows, K] bf16 */
    void *y; size_t ldy;           /* [rows, N] bf16, or fp32 when y_f32 */
    size_t rows, n, k;
    int w_int8;                    /* 1: W int8 with scales; 0: W bf16 */
    int y_f32;
    int accumulate;                /* 1: y += x·Wᵀ */
} ljc_gemv_args;

#ifdef __cplusplus
extern "C" {
#endif
/* 1 when the GEMV can run `a`: K a multiple of one 16-byte load (8 bf16 or 16 int8 weights),
 * x rows and W 16-byte aligned. */
int ljc_gemv_ok(const ljc_gemv_args *a);
/* Launches on `stream` (`sms`: the device's multiprocessor count, for the block shape); returns 0
 * or a cudaError_t. */
int ljc_gemv(const ljc_gemv_args *a, int sms, cudaStream_t stream);
#ifdef __cplusplus
}
#endif

#endif
