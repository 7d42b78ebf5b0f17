/* Row-wise and elementwise ops: embedding lookup, RMSNorm, SiLU·mul, add, argmax. */
#include "kernels/cpu/cpu.h"

#include <math.h>
#include <string.h>

int cpu_embedding(lj_backend *b, const lj_embedding_params *p) {
    if (p->table.dtype != LJ_F32) return cpu_fail(b, "cpu embedding: table must be F32");
    const float *tab = p->table.data;
    float *out = p->out;
    size_t H = p->table.cols;
    for (size_t t = 0; t < p->n_tokens; t++) {
        int32_t id = p->ids[t];
        if (id < 0 || (size_t)id >= p->table.rows)
            return cpu_fail(b, "cpu embedding: token id %d at position %zu is outside the vocabulary of %zu", id, t,
                            p->table.rows);
        memcpy(out + t * H, tab + (size_t)id * H, H * sizeof(float));
    }
    return 0;
}

static void rmsnorm_rows(void *arg, size_t r0, size_t r1) {
    const lj_rmsnorm_params *p = arg;
    for (size_t r = r0; r < r1; r++) {
        const float *x = (const float *)p->x + r * p->ldx;
        float *y = (float *)p->y + r * p->ldy;
        // torch: x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * weight
        double ss = 0;
        for (size_t i = 0; i < p->n; i++) ss += (double)x[i] * x[i];
        float inv = (float)(1.0 / sqrt(ss / (double)p->n + (double)p->eps));
        for (size_t i = 0; i < p->n; i++) y[i] = p->weight[i] * (x[i] * inv);
    }
}

int cpu_rmsnorm(lj_backend *b, const lj_rmsnorm_params *p) {
    size_t grain = p->rows / (size_t)(2 * b->threads) + 1;
    if (p->rows * p->n < 16384) grain = p->rows;   /* not worth waking the pool */
    pool_for(cpu_pool_of(b), p->rows, grain, rmsnorm_rows, (void *)p);
    return 0;
}

static void silu_mul_rows(void *arg, size_t r0, size_t r1) {
    const lj_silu_mul_params *p = arg;
    for (size_t r = r0; r < r1; r++) {
        const float *a = (const float *)p->a + r * p->lda, *bb = (const float *)p->b + r * p->ldb;
        float *o = (float *)p->out + r * p->ldo;
        for (size_t i = 0; i < p->n; i++) o[i] = cpu_silu(a[i]) * bb[i];
    }
}

int cpu_silu_mul(lj_backend *b, const lj_silu_mul_params *p) {
    size_t grain = p->rows / (size_t)(2 * b->threads) + 1;
    if (p->rows * p->n < 16384) grain = p->rows;
    pool_for(cpu_pool_of(b), p->rows, grain, silu_mul_rows, (void *)p);
    return 0;
}

int cpu_add(lj_backend *b, const lj_add_params *p) {
    const float *x = p->a, *y = p->b;
    float *o = p->y;
    for (size_t i = 0; i < p->n; i++) o[i] = x[i] + y[i];
    return 0;
}

int cpu_argmax(lj_backend *b, const lj_argmax_params *p) {
    for (size_t r = 0; r < p->rows; r++) {
        const float *x = (const float *)p->x + r * p->ldx;
        size_t best = 0;
        for (size_t j = 1; j < p->n; j++)
            if (x[j] > x[best]) best = j;
        p->ids[r] = (int32_t)best;
    }
    return 0;
}
