/* Depthwise causal conv1d over time with a carried window, then SiLU (Mamba's conv stage).
 *   torch: y = silu(conv1d(cat(window, x), weight[D,1,K], bias, groups=D)[..., :T])
 * Parallel over channels and over time slices of each sequence: a thread owns one channel over
 * CONV_SLICE consecutive tokens and keeps the last K inputs in registers. A second launch moves the
 * window forward once every slice has read it. bf16 activations with 8-aligned rows take the
 * vector kernel: a thread owns 8 adjacent channels and moves them with one 16-byte load and one
 * 16-byte store per token (the scalar kernel's 2-byte accesses left the memory system half idle). */
#include "kernels/cuda/cuda_internal.h"

typedef __nv_bfloat16 bf16;

#define CONV_SLICE 64
#define CONV_THREADS 128

/* Input τ of the sequence (τ < 0: from the carried window, row K-1+τ). */
template <int K, typename T>
__device__ __forceinline__ float conv_in(const T *x, size_t ldx, const float *win, size_t d, size_t D, int start, int tau, size_t c) {
    if (tau >= 0) return ljc_ld(x + (size_t)(start + tau) * ldx + c);
    return win ? win[(size_t)(K - 1 + tau) * D + c] : 0.0f;
}

template <int K, typename T>
__global__ void conv_kernel(ljc_seqs seqs, const T *x, size_t ldx, const float *w, const float *bias, T *y,
                            size_t ldy, size_t D) {
    size_t c = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
    int s = blockIdx.z;
    int t0 = blockIdx.y * CONV_SLICE;
    if (c >= D || t0 >= seqs.ntok[s]) return;
    int start = seqs.start[s], n = seqs.ntok[s];
    const float *win = (const float *)seqs.p0[s];
    float wk[K];
#pragma unroll
    for (int j = 0; j < K; j++) wk[j] = w[c * K + j];
    float b0 = bias ? bias[c] : 0.0f;
    float hist[K];   /* hist[K-1] is the current input, hist[0] the oldest */
#pragma unroll
    for (int j = 0; j < K - 1; j++) hist[j] = conv_in<K, T>(x, ldx, win, c, D, start, t0 - (K - 1) + j, c);
    int t1 = min(n, t0 + CONV_SLICE);
    for (int t = t0; t < t1; t++) {
        hist[K - 1] = ljc_ld(x + (size_t)(start + t) * ldx + c);
        float acc = b0;
#pragma unroll
        for (int j = 0; j < K; j++) acc += wk[j] * hist[j];
        ljc_st(y + (size_t)(start + t) * ldy + c, ljc_silu(acc));
#pragma unroll
        for (int j = 0; j < K - 1; j++) hist[j] = hist[j + 1];
    }
}

/* 8 bf16 (16 bytes, 16-byte aligned) <-> 8 floats */
__device__ __forceinline__ void conv_ld8(const bf16 *p, float *f) {
    uint4 v = *reinterpret_cast<const uint4 *>(p);
    const __nv_bfloat162 *h = reinterpret_cast<const __nv_bfloat162 *>(&v);
#pragma unroll
    for (int i = 0; i < 4; i++) {
        float2 t = __bfloat1622float2(h[i]);
        f[2 * i] = t.x;
        f[2 * i + 1] = t.y;
    }
}
__device__ __forceinline__ void conv_st8(bf16 *p, const float *f) {
    uint4 v;
    __nv_bfloat162 *h = reinterpret_cast<__nv_bfloat162 *>(&v);
#pragma unroll
    for (int i = 0; i < 4; i++) h[i] = __floats2bfloat162_rn(f[2 * i], f[2 * i + 1]);
    *reinterpret_cast<uint4 *>(p) = v;
}

/* conv_kernel for 8 channels per thread (bf16; D, ldx, ldy multiples of 8, x and y 16-byte aligned) */
template <int K>
__global__ void conv_kernel_v8(ljc_seqs seqs, const bf16 *__restrict__ x, size_t ldx, const float *__restrict__ w,
                               const float *__restrict__ bias, bf16 *__restrict__ y, size_t ldy, size_t D) {
    size_t c0 = (blockIdx.x * (size_t)blockDim.x + threadIdx.x) * 8;
    int s = blockIdx.z;
    int t0 = blockIdx.y * CONV_SLICE;
    if (c0 >= D || t0 >= seqs.ntok[s]) return;
    int start = seqs.start[s], n = seqs.ntok[s];
    const float *win = (const float *)seqs.p0[s];
    float wk[8][K], b0[8], hist[K][8];   /* hist[K-1] is the current input, hist[0] the oldest */
#pragma unroll
    for (int i = 0; i < 8; i++) {
#pragma unroll
        for (int j = 0; j < K; j++) wk[i][j] = w[(c0 + i) * K + j];
        b0[i] = bias ? bias[c0 + i] : 0.0f;
    }
#pragma unroll
    for (int j = 0; j < K - 1; j++) {
        int tau = t0 - (K - 1) + j;
        if (tau >= 0) conv_ld8(x + (size_t)(start + tau) * ldx + c0, hist[j]);
        else
#pragma unroll
            for (int i = 0; i < 8; i++) hist[j][i] = win ? win[(size_t)(K - 1 + tau) * D + c0 + i] : 0.0f;
    }
    int t1 = min(n, t0 + CONV_SLICE);
    for (int t = t0; t < t1; t++) {
        conv_ld8(x + (size_t)(start + t) * ldx + c0, hist[K - 1]);
        float out[8];
#pragma unroll
        for (int i = 0; i < 8; i++) {
            float acc = b0[i];
#pragma unroll
            for (int j = 0; j < K; j++) acc += wk[i][j] * hist[j][i];
            out[i] = ljc_silu(acc);
        }
        conv_st8(y + (size_t)(start + t) * ldy + c0, out);
#pragma unroll
        for (int j = 0; j < K - 1; j++)
#pragma unroll
            for (int i = 0; i < 8; i++) hist[j][i] = hist[j + 1][i];
    }
}

/* window ← the last K-1 inputs of the sequence (some may come from the old window). */
template <int K, typename T>
__global__ void conv_window_kernel(ljc_seqs seqs, const T *x, size_t ldx, size_t D) {
    size_t c = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
    int s = blockIdx.y;
    if (c >= D) return;
    float *win = (float *)seqs.p0[s];
    if (!win) return;
    float nw[K - 1];
#pragma unroll
    for (int j = 0; j < K - 1; j++) nw[j] = conv_in<K, T>(x, ldx, win, c, D, seqs.start[s], seqs.ntok[s] - (K - 1) + j, c);
#pragma unroll
    for (int j = 0; j < K - 1; j++) win[(size_t)j * D + c] = nw[j];
}

template <int K, typename T>
static int conv_launch(lj_backend *b, const lj_conv1d_params *p, const ljc_seqs *t) {
    cudaStream_t st = ljc_of(b)->stream;
    const bool v8 = sizeof(T) == 2 && p->d % 8 == 0 && p->ldx % 8 == 0 && p->ldy % 8 == 0 &&
                    (uintptr_t)p->x % 16 == 0 && (uintptr_t)p->y % 16 == 0;
    if (v8) {
        dim3 g1(ljc_blocks(p->d / 8, CONV_THREADS), ljc_blocks((size_t)t->max_tok, CONV_SLICE), (unsigned)t->n);
        conv_kernel_v8<K><<<g1, CONV_THREADS, 0, st>>>(*t, (const bf16 *)p->x, p->ldx, p->weight, p->bias,
                                                      (bf16 *)p->y, p->ldy, p->d);
    } else {
        dim3 g1(ljc_blocks(p->d, CONV_THREADS), ljc_blocks((size_t)t->max_tok, CONV_SLICE), (unsigned)t->n);
        conv_kernel<K, T><<<g1, CONV_THREADS, 0, st>>>(*t, (const T *)p->x, p->ldx, p->weight, p->bias, (T *)p->y,
                                                    p->ldy, p->d);
    }
    LJC_LAUNCHED(b, "conv1d");
    dim3 g2(ljc_blocks(p->d, CONV_THREADS), (unsigned)t->n);
    conv_window_kernel<K, T><<<g2, CONV_THREADS, 0, st>>>(*t, (const T *)p->x, p->ldx, p->d);
    LJC_LAUNCHED(b, "conv1d window");
    return 0;
}

template <typename T>
static int conv_dispatch(lj_backend *b, const lj_conv1d_params *p, const ljc_seqs *t) {
    switch (p->k) {
    case 2: return conv_launch<2, T>(b, p, t);
    case 3: return conv_launch<3, T>(b, p, t);
    case 4: return conv_launch<4, T>(b, p, t);
    case 5: return conv_launch<5, T>(b, p, t);
    case 6: return conv_launch<6, T>(b, p, t);
    case 7: return conv_launch<7, T>(b, p, t);
    default: return conv_launch<8, T>(b, p, t);
    }
}

int ljc_conv1d(lj_backend *b, const lj_conv1d_params *p) {
    if (p->k < 2 || p->k > 8) return ljc_set_err(b, "cuda conv1d: kernel size %zu not in 2..8", p->k);
    for (size_t first = 0; first < p->batch.n_seqs; first += LJC_MAX_SEQS) {
        size_t cnt = p->batch.n_seqs - first < LJC_MAX_SEQS ? p->batch.n_seqs - first : LJC_MAX_SEQS;
        ljc_seqs t;
        ljc_seqs_fill(&t, &p->batch, first, cnt, (void *const *)p->window, NULL);
        if (!t.max_tok) continue;
        int rc = ljc_f32(b) ? conv_dispatch<float>(b, p, &t) : conv_dispatch<bf16>(b, p, &t);
        if (rc) return rc;
    }
    return 0;
}
