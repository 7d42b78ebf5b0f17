/* CPU backend internals: the fp32 reference ops, one file per op family, sharing a thread pool
 * and a growable scratch area. */
#ifndef LJ_KERNELS_CPU_CPU_H
#define LJ_KERNELS_CPU_CPU_H

#include "kernels/backend.h"
#include "kernels/cpu/pool.h"

#include <math.h>

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

#endif
