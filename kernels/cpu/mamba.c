/* Mamba ops: causal depthwise conv1d + SiLU with a carried window, and the selective scan with a
 * carried SSM state. Both are independent per channel, so channels are split across threads and
 * each thread walks every sequence's tokens in order. */
#include "kernels/cpu/cpu.h"

#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void conv_channels(void *arg, size_t d0, size_t d1) {
    const lj_conv1d_params *p = arg;
    const size_t K = p->k, D = p->d;
    const float *x = p->x;
    float *y = p->y;
    size_t row = 0;
    for (size_t s = 0; s < p->batch.n_seqs; s++) {
        const size_t T = p->batch.seq_tokens[s];
        float *win = p->window[s];   // [K-1, D]: row j = input K-1-j steps before the chunk
        for (size_t d = d0; d < d1; d++) {
            const float *w = p->weight + d * K;   // [K]
            const float bias = p->bias ? p->bias[d] : 0.0f;
            for (size_t t = 0; t < T; t++) {
                // torch: conv1d(cat(window, x), w, bias, groups=D)[t] = Σ_j w[j] · in[t + j]
                float acc = bias;
                for (size_t j = 0; j < K; j++) {
                    /* input index t + j - (K-1) in chunk time; negative = from the window */
                    size_t src = t + j;
                    float v = src < K - 1 ? win[src * D + d] : x[(row + src - (K - 1)) * p->ldx + d];
                    acc += w[j] * v;
                }
                y[(row + t) * p->ldy + d] = cpu_silu(acc);
            }
            /* new window = last K-1 inputs of cat(window, x) */
            for (size_t j = 0; j + 1 < K; j++) {
                size_t src = T + j;   /* index into cat(window, x) of length K-1+T */
                win[j * D + d] = src < K - 1 ? win[src * D + d] : x[(row + src - (K - 1)) * p->ldx + d];
            }
        }
        row += T;
    }
}

int cpu_conv1d(lj_backend *b, const lj_conv1d_params *p) {
    if (p->k == 0) return cpu_fail(b, "cpu conv1d: kernel size 0");
    if (p->x == p->y) return cpu_fail(b, "cpu conv1d: x and y must not alias");
    size_t grain = p->d / (size_t)(4 * b->threads) + 1;
    if (p->batch.n_tokens * p->d * p->k < 16384) grain = p->d;
    pool_for(cpu_pool_of(b), p->d, grain, conv_channels, (void *)p);
    return 0;
}

/* torch F.softplus(x) with its default threshold 20 (linear above it). */
static inline float softplus(float x) { return x > 20.0f ? x : log1pf(expf(x)); }

typedef struct scan_job {
    const lj_scan_params *p;
    atomic_int failed;   /* a chunk could not get its scratch */
} scan_job;

LJ_CPU_VECTORIZE static void scan_channels(void *arg, size_t d0, size_t d1) {
    scan_job *job = arg;
    const lj_scan_params *p = job->p;
    const size_t N = p->n;
    const float *x = p->x, *dt = p->dt, *B = p->b, *C = p->c, *z = p->z;
    float *y = p->y;
    float *A = malloc(2 * N * sizeof *A), *dA = A + N;   // [N] each
    if (!A) { atomic_store(&job->failed, 1); return; }
    size_t row = 0;
    for (size_t s = 0; s < p->batch.n_seqs; s++) {
        const size_t T = p->batch.seq_tokens[s];
        float *state = p->state[s];   // [D, N]
        for (size_t d = d0; d < d1; d++) {
            float *h = state + d * N;   // [N]
            // torch: A = -torch.exp(A_log)
            for (size_t n = 0; n < N; n++) A[n] = -expf(p->a_log[d * N + n]);
            for (size_t t = 0; t < T; t++) {
                size_t r = row + t;
                // torch: dt = softplus(dt + delta_bias)
                float delta = softplus(dt[r * p->lddt + d] + p->dt_bias[d]);
                float xv = x[r * p->ldx + d];
                const float *Bt = B + r * p->ldb, *Ct = C + r * p->ldc;
                // torch: h = exp(A * dt) * h + (dt * B) * x ;  y = h @ C
                for (size_t n = 0; n < N; n++) dA[n] = cpu_exp(A[n] * delta);
                for (size_t n = 0; n < N; n++) h[n] = dA[n] * h[n] + (delta * Bt[n]) * xv;
                float acc = 0.0f;
                for (size_t n = 0; n < N; n++) acc += h[n] * Ct[n];
                // torch: y = (y + x * D) * silu(z)
                float out = acc + xv * p->d_skip[d];
                y[r * p->ldy + d] = out * cpu_silu(z[r * p->ldz + d]);
            }
        }
        row += T;
    }
    free(A);
}

int cpu_scan(lj_backend *b, const lj_scan_params *p) {
    if (p->n == 0 || p->d == 0) return 0;
    size_t grain = p->d / (size_t)(4 * b->threads) + 1;
    if (p->batch.n_tokens * p->d * p->n < 16384) grain = p->d;
    scan_job job = {.p = p};
    atomic_init(&job.failed, 0);
    pool_for(cpu_pool_of(b), p->d, grain, scan_channels, &job);
    return atomic_load(&job.failed) ? cpu_fail(b, "cpu scan: out of memory for scratch") : 0;
}
