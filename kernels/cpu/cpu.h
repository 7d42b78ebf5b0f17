/* CPU backend internals: the fp32 reference ops, one file per op family, sharing a thread pool
 * and a growable scratch area. */
#ifndef LJ_KERNELS_CPU_CPU_H
#define LJ_KERNELS_CPU_CPU_H

#include "kernels/backend.h"
#include "kernels/cpu/pool.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

typedef struct cpu_impl {
    cpu_pool *pool;
    float *scratch;         /* moe: grouped rows and expert activations */
    size_t scratch_floats;
} cpu_impl;

static inline cpu_pool *cpu_pool_of(lj_backend *b) { return ((cpu_impl *)b->impl)->pool; }
/* At least n floats of scratch (kept between calls); NULL with b->err set on failure. */
float *cpu_scratch(lj_backend *b, size_t n);
int cpu_fail(lj_backend *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

int cpu_embedding(lj_backend *b, const lj_embedding_params *p);     /* elementwise.c */
int cpu_rmsnorm(lj_backend *b, const lj_rmsnorm_params *p);
int cpu_silu_mul(lj_backend *b, const lj_silu_mul_params *p);
int cpu_add(lj_backend *b, const lj_add_params *p);
int cpu_argmax(lj_backend *b, const lj_argmax_params *p);
int cpu_matmul(lj_backend *b, const lj_matmul_params *p);           /* matmul.c */
int cpu_conv1d(lj_backend *b, const lj_conv1d_params *p);           /* mamba.c */
int cpu_scan(lj_backend *b, const lj_scan_params *p);
int cpu_attention(lj_backend *b, const lj_attention_params *p);     /* attention.c */
int cpu_moe(lj_backend *b, const lj_moe_params *p);                 /* moe.c */

static inline float cpu_silu(float x) { return x / (1.0f + expf(-x)); }

/* C[M, N] = A[M, K] · op(B) + beta · C, single-threaded (called from inside pool tasks):
 * op(B) = Bᵀ with B [N, K] when trans_b, else B [K, N]. OpenBLAS sgemm when available. */
void cpu_gemm(int trans_b, size_t m, size_t n, size_t k, const float *a, size_t lda, const float *b, size_t ldb,
              float beta, float *c, size_t ldc);

/* exp(x) as 2^k · e^r (|r| <= ln2/2) with Cephes' expf polynomial (about 1 ulp), written with
 * plain float/int operations so that loops over it vectorize; libm's expf is one call per
 * element and was most of the scan's and attention's time. Inputs below -87 (results < 1.7e-38) give 0. */
#if defined(__GNUC__) && !defined(__clang__)
/* Vectorize a function's inner loops at -O2: no-trapping-math lets the clamps in cpu_exp become
 * vector selects (it changes no result; no FP exceptions are enabled anywhere). */
#define LJ_CPU_VECTORIZE __attribute__((optimize("no-trapping-math", "tree-vectorize", "vect-cost-model=dynamic")))
#else
#define LJ_CPU_VECTORIZE
#endif

LJ_CPU_VECTORIZE static inline float cpu_exp(float x) {
    const float log2e = 1.44269504088896341f, ln2_hi = 0.693359375f, ln2_lo = -2.12194440e-4f;
    float xc = x < -87.0f ? -87.0f : x;
    xc = xc > 88.0f ? 88.0f : xc;
    float k = (xc * log2e + 12582912.0f) - 12582912.0f;   /* round to nearest (|k| < 2^22) */
    float r = (xc - k * ln2_hi) - k * ln2_lo;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    int32_t bits = ((int32_t)k + 127) * (1 << 23);   /* 2^k */
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    float res = p * scale;
    return x < -87.0f ? 0.0f : res;
}


#endif
