/* W8A16 grouped GEMM for ExpertsInt8 (engine/quant.h): activations bf16 (or fp32 in the precise
 * mode), expert weights int8 with one fp32 scale per output row. The int8 weights are widened to
 * bf16 in registers right before the tensor-core MMA (exact: |q| <= 127 fits bf16's 8-bit
 * significand) and the scale is applied once per output element after the K loop; the weights
 * are never materialised in bf16 in global memory.
 *
 * Grouped: rows of x are sorted by expert (rows [offs[e], offs[e] + cnt[e]) belong to expert e),
 * and every expert's rows are multiplied by that expert's matrix in one launch. offs/cnt are
 * device arrays (the MoE op's counting sort), so nothing waits for the host.
 *   y[r, n] = scale_e[n] · Σ_k x[r, k] · q_e[n, k]          (fp32 accumulation)
 * Kernels: for prefill (many rows per expert) on Hopper (sm_90a) a warpgroup-MMA kernel with the
 * weights as the register operand (moe_w8a16_sm90.cu), elsewhere a tiled mma.sync kernel; for
 * decode (<= 64 rows in all) the small-batch GEMV of gemv.cu (bf16 activations), and a
 * warp-per-column kernel (the fp32 precise mode). ljc_w8a16_grouped picks by the total row count
 * and the GPU. */
#ifndef LJ_KERNELS_CUDA_MOE_W8A16_H
#define LJ_KERNELS_CUDA_MOE_W8A16_H

#include <cuda_runtime.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ljc_w8a16_args {
    int n_experts;
    const int *offs, *cnt;           /* device [E]: first row and row count of each expert */
    const int8_t *const *w;          /* device [E] -> int8 [N, K] (row-major, row stride K) */
    const float *const *scale;       /* device [E] -> fp32 [N] */
    const void *x; size_t ldx;       /* [R, K] bf16 (or fp32 when act_fp32) */
    void *y; size_t ldy;             /* [R, N] same type as x */
    size_t rows;                     /* R = Σ cnt (known on the host: tokens × top-k) */
    size_t n, k;
    int act_fp32;                    /* 1: x and y are fp32 (LONGJAM_CUDA_PRECISION=fp32) */
    int force;                       /* 0 auto, 1 the mma.sync kernel, 2 the column kernel, 3 wgmma (tests, A/B) */
} ljc_w8a16_args;

#ifdef __cplusplus
extern "C" {
#endif
/* Launches on `stream`; returns 0 or a cudaError_t (launch configuration errors). Requirements:
 * k % 64 == 0 for the mma kernel (else the column kernel runs); pointers 16-byte aligned. */
int ljc_w8a16_grouped(const ljc_w8a16_args *a, cudaStream_t stream);
/* the sm_90a kernel: whether it can run `a` on the current device, and its launch */
int ljc_w8a16_wgmma_ok(const ljc_w8a16_args *a);
int ljc_w8a16_wgmma(const ljc_w8a16_args *a, cudaStream_t stream);
#ifdef __cplusplus
}
#endif

#ifdef __CUDACC__
/* Which expert and which `tile_rows`-row tile of it grid row `t` computes (tiles of all experts
 * in order); false when t is past the last tile (grids have an upper bound of R/tile_rows + E). */
__device__ __forceinline__ bool w8_tile_of(const int *cnt, int E, int t, int tile_rows, int *e_out, int *tile_out) {
    int acc = 0;
    for (int e = 0; e < E; e++) {
        int tiles = (cnt[e] + tile_rows - 1) / tile_rows;
        if (t < acc + tiles) { *e_out = e; *tile_out = t - acc; return true; }
        acc += tiles;
    }
    return false;
}
#endif

#endif
