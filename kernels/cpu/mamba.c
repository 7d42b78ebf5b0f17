/* Mamba ops: causal depthwise conv1d + SiLU with a carried window, and the selective scan with a
 * carried SSM state. Both are independent per channel, so channels are split across threads and
 * each thread walks every sequence's tokens in order. */
#include "kernels/cpu/cpu.h"

#include <math.h>
#include <stdint.h>
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

/* exp(x) as 2^k · e^r (|r| <= ln2/2) with Cephes' expf polynomial (about 1 ulp), written with
 * plain float/int operations so that loops over it vectorize; libm's expf is one call per
 * element and was most of the scan's time. Inputs below -87 (results < 1.7e-38) give 0. */
#if defined(__GNUC__) && !defined(__clang__)
/* Vectorize the scan's inner loops at -O2: no-trapping-math lets the clamps below become
 * vector selects (it changes no result; no FP exceptions are enabled anywhere). */
#define SCAN_VECTORIZE __attribute__((optimize("no-trapping-math", "tree-vectorize", "vect-cost-model=dynamic")))
#else
#define SCAN_VECTORIZE
#endif

SCAN_VECTORIZE static inline float exp_vec(float x) {
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

/* torch F.softplus(x) with its default threshold 20 (linear above it). */
static inline float softplus(float x) { return x > 20.0f ? x : log1pf(expf(x)); }

SCAN_VECTORIZE static void scan_channels(void *arg, size_t d0, size_t d1) {
    const lj_scan_params *p = arg;
    const size_t N = p->n;
    const float *x = p->x, *dt = p->dt, *B = p->b, *C = p->c, *z = p->z;
    float *y = p->y;
    float A[256], dA[256];
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
                for (size_t n = 0; n < N; n++) dA[n] = exp_vec(A[n] * delta);
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
}

int cpu_scan(lj_backend *b, const lj_scan_params *p) {
    if (p->n > 256) return cpu_fail(b, "cpu scan: d_state %zu > 256 is not supported", p->n);
    size_t grain = p->d / (size_t)(4 * b->threads) + 1;
    if (p->batch.n_tokens * p->d * p->n < 16384) grain = p->d;
    pool_for(cpu_pool_of(b), p->d, grain, scan_channels, (void *)p);
    return 0;
}
