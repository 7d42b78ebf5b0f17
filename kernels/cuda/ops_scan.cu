/* Selective scan (Mamba-1, diagonal A) with carried fp32 state, two ways (ljc_set_scan_mode):
 * a single pass per block over the whole sequence when the channels alone fill the GPU (prefill of
 * a wide model; see scan_single_pass), else chunked over time:
 *   delta = softplus(dt + dt_bias); A = -exp(A_log)
 *   h_t = exp(delta_t A) ⊙ h_{t-1} + delta_t x_t B_t ;  y_t = (h_t · C_t + D x_t) · silu(z_t)
 * The recurrence is linear in h, so a chunk of L steps maps h_in to P ⊙ h_in + S, where
 * P = exp(A · Σ delta) and S is the chunk's state from h_in = 0. Three launches:
 *   1. chunk_state: every (chunk, channel) runs its L steps from zero → S, Σ delta   (parallel)
 *   2. chunk_carry: per (channel, state) walk the chunks: h_in(c) = P(c-1) h_in(c-1) + S(c-1)
 *   3. chunk_output: every chunk re-runs its steps from its true h_in and writes y
 * A thread owns one channel with its N states in registers; B_t, C_t of the chunk sit in shared
 * memory. A step with one chunk (decode, short prompts) runs launch 3 alone. */
#include "kernels/cuda/cuda_backend.h"
#include "kernels/cuda/cuda_internal.h"
#include "kernels/cuda/device_util.cuh"

typedef __nv_bfloat16 bf16;

#ifndef SCAN_THREADS
#define SCAN_THREADS 128
#endif
#ifndef SCAN_SUB_BYTES
#define SCAN_SUB_BYTES 32   /* bytes of x/dt/z per channel staged at a time (16 bf16 steps; 64: -4%) */
#endif

struct scan_args {
    const void *x, *dt, *b, *c, *z;   /* activation type T of the kernel */
    size_t ldx, lddt, ldb, ldc, ldz, ldy;
    const float *dt_bias, *a_log, *d_skip;
    void *y;
    size_t D, N;
    float *S;        /* [seq][chunk][D][N] chunk states, then chunk initial states */
    float *sumdt;    /* [seq][chunk][D] */
    int nch_max;
};

/* 2^x for x <= 0 (dt·A in log2 units). The hardware ex2 alone (2 ulp): exp2f adds range
 * fix-ups around it that the scan, with its arguments always <= 0, does not need. */
__device__ __forceinline__ float scan_ex2(float x) {
#ifdef SCAN_EXP2F
    return exp2f(x);
#else
    return ljc_ex2(x);
#endif
}

template <int NP> struct scan_chunk_len { static const int L = NP <= 16 ? 128 : 64; };

/* Loads B (and C) rows [t0, t0+len) of a sequence into shared memory as fp32 [L][NP], zero padded. */
template <int NP, bool WITH_C, typename T>
__device__ __forceinline__ void scan_load_bc(const scan_args &a, int row0, int len, float *bs, float *cs) {
    const int L = scan_chunk_len<NP>::L;
    for (int i = threadIdx.x; i < L * NP; i += blockDim.x) {
        int t = i / NP, n = i % NP;
        bool ok = t < len && n < (int)a.N;
        bs[i] = ok ? ljc_ld((const T *)a.b + (size_t)(row0 + t) * a.ldb + n) : 0.0f;
        if (WITH_C) cs[i] = ok ? ljc_ld((const T *)a.c + (size_t)(row0 + t) * a.ldc + n) : 0.0f;
    }
}

/* x, dt (and z) of SUB steps × the block's channels, staged in shared memory so that each thread
 * issues all its loads of a sub-chunk at once instead of one dependent load per step. */
template <int NP, typename T> struct scan_sub { static const int S = (NP <= 16 ? SCAN_SUB_BYTES : SCAN_SUB_BYTES / 2) / (int)sizeof(T); };

template <bool WITH_Z, typename T>
__device__ __forceinline__ void scan_stage(const scan_args &a, size_t row, int sl, int SUB, size_t d, bool act, T *xs,
                                           T *dts, T *zs) {
    const T zero = T(0.0f);
    const T *x = (const T *)a.x, *dt = (const T *)a.dt, *z = (const T *)a.z;
    for (int t = 0; t < SUB; t++) {
        bool ok = act && t < sl;
        size_t r = row + t;
        xs[t * SCAN_THREADS + threadIdx.x] = ok ? x[r * a.ldx + d] : zero;
        dts[t * SCAN_THREADS + threadIdx.x] = ok ? dt[r * a.lddt + d] : zero;
        if (WITH_Z) zs[t * SCAN_THREADS + threadIdx.x] = ok ? z[r * a.ldz + d] : zero;
    }
}

template <int NP, typename T>
__global__ void __launch_bounds__(SCAN_THREADS) scan_chunk_state(ljc_seqs seqs, scan_args a) {
    const int L = scan_chunk_len<NP>::L, SUB = scan_sub<NP, T>::S;
    __shared__ float bs[L * NP];
    __shared__ T xs[SUB * SCAN_THREADS], dts[SUB * SCAN_THREADS];
    int s = blockIdx.z, ch = blockIdx.y;
    int t0 = ch * L;
    if (t0 >= seqs.ntok[s]) return;   /* uniform over the block */
    int len = min(L, seqs.ntok[s] - t0), row0 = seqs.start[s] + t0;
    scan_load_bc<NP, false, T>(a, row0, len, bs, nullptr);
    size_t d = blockIdx.x * (size_t)SCAN_THREADS + threadIdx.x;
    bool act = d < a.D;
    float A[NP], h[NP];
#pragma unroll
    for (int n = 0; n < NP; n++) {
        A[n] = act && n < (int)a.N ? -__expf(a.a_log[d * a.N + n]) * 1.4426950408889634f : 0.0f;   /* log2 units */
        h[n] = 0.0f;
    }
    float bias = act ? a.dt_bias[d] : 0.0f, sum = 0.0f;
    for (int sub = 0; sub < len; sub += SUB) {
        int sl = min(SUB, len - sub);
        __syncthreads();
        scan_stage<false, T>(a, (size_t)(row0 + sub), sl, SUB, d, act, xs, dts, nullptr);
        __syncthreads();
        for (int t = 0; t < sl; t++) {
            float dv = ljc_softplus(ljc_ld(&dts[t * SCAN_THREADS + threadIdx.x]) + bias);
            float dx = dv * ljc_ld(&xs[t * SCAN_THREADS + threadIdx.x]);
            sum += dv;
            const float *bt = bs + (sub + t) * NP;
#pragma unroll
            for (int n = 0; n < NP; n++) h[n] = scan_ex2(dv * A[n]) * h[n] + dx * bt[n];
        }
    }
    if (!act) return;
    size_t base = ((size_t)s * a.nch_max + ch) * a.D + d;
    a.sumdt[base] = sum;
#pragma unroll
    for (int n = 0; n < NP; n++)
        if (n < (int)a.N) a.S[base * a.N + n] = h[n];
}

#define CARRY_AHEAD 16

__global__ void scan_chunk_carry(ljc_seqs seqs, scan_args a, int L) {
    size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
    int s = blockIdx.y;
    if (i >= a.D * a.N) return;
    size_t d = i / a.N;
    float *state = (float *)seqs.p0[s];
    float A = -__expf(a.a_log[i]);
    float h = state[i];
    int nch = (seqs.ntok[s] + L - 1) / L;
    /* CARRY_AHEAD chunks' loads are issued before any of their stores: one load per chunk waiting on
     * the store before it (the compiler cannot reorder them: same array) made this walk a third of
     * the whole scan in ncu (516 of ~1,800 us, long-scoreboard stalls) */
    const size_t cstride = a.D * a.N, n = i % a.N;
    float *sp = a.S + ((size_t)s * a.nch_max * a.D + d) * a.N + n;
    const float *dp = a.sumdt + (size_t)s * a.nch_max * a.D + d;
    for (int c0 = 0; c0 < nch; c0 += CARRY_AHEAD) {
        float sv[CARRY_AHEAD], dv[CARRY_AHEAD];
#pragma unroll
        for (int j = 0; j < CARRY_AHEAD; j++)
            if (c0 + j < nch) {
                sv[j] = sp[(size_t)(c0 + j) * cstride];
                dv[j] = dp[(size_t)(c0 + j) * a.D];
            }
#pragma unroll
        for (int j = 0; j < CARRY_AHEAD; j++)
            if (c0 + j < nch) {
                sp[(size_t)(c0 + j) * cstride] = h;   /* now: the chunk's initial state */
                h = __expf(A * dv[j]) * h + sv[j];
            }
    }
    state[i] = h;
}

template <int NP, typename T>
__global__ void __launch_bounds__(SCAN_THREADS) scan_chunk_output(ljc_seqs seqs, scan_args a, int single) {
    const int L = scan_chunk_len<NP>::L, SUB = scan_sub<NP, T>::S;
    __shared__ float bs[L * NP], cs[L * NP];
    __shared__ T xs[SUB * SCAN_THREADS], dts[SUB * SCAN_THREADS], zs[SUB * SCAN_THREADS];
    int s = blockIdx.z, ch = blockIdx.y;
    int t0 = ch * L;
    if (t0 >= seqs.ntok[s]) return;
    int len = min(L, seqs.ntok[s] - t0), row0 = seqs.start[s] + t0;
    scan_load_bc<NP, true, T>(a, row0, len, bs, cs);
    size_t d = blockIdx.x * (size_t)SCAN_THREADS + threadIdx.x;
    bool act = d < a.D;
    float *state = (float *)seqs.p0[s];
    const float *h0 = single ? state + d * a.N : a.S + (((size_t)s * a.nch_max + ch) * a.D + d) * a.N;
    float A[NP], h[NP];
#pragma unroll
    for (int n = 0; n < NP; n++) {
        bool ok = act && n < (int)a.N;
        A[n] = ok ? -__expf(a.a_log[d * a.N + n]) * 1.4426950408889634f : 0.0f;
        h[n] = ok ? h0[n] : 0.0f;
    }
    float bias = act ? a.dt_bias[d] : 0.0f, dsk = act ? a.d_skip[d] : 0.0f;
    for (int sub = 0; sub < len; sub += SUB) {
        int sl = min(SUB, len - sub);
        __syncthreads();
        scan_stage<true, T>(a, (size_t)(row0 + sub), sl, SUB, d, act, xs, dts, zs);
        __syncthreads();
        for (int t = 0; t < sl; t++) {
            float xv = ljc_ld(&xs[t * SCAN_THREADS + threadIdx.x]);
            float dv = ljc_softplus(ljc_ld(&dts[t * SCAN_THREADS + threadIdx.x]) + bias);
            float dx = dv * xv, acc = 0.0f;
            const float *bt = bs + (sub + t) * NP, *ct = cs + (sub + t) * NP;
#pragma unroll
            for (int n = 0; n < NP; n++) {
                h[n] = scan_ex2(dv * A[n]) * h[n] + dx * bt[n];
                acc += h[n] * ct[n];
            }
            float zv = ljc_ld(&zs[t * SCAN_THREADS + threadIdx.x]);
            if (act) ljc_st((T *)a.y + (size_t)(row0 + sub + t) * a.ldy + d, (acc + dsk * xv) * ljc_silu(zv));
        }
    }
    if (single && act) {
#pragma unroll
        for (int n = 0; n < NP; n++)
            if (n < (int)a.N) state[d * a.N + n] = h[n];
    }
}

/* ---- single pass: a block walks its sequence once, for 16 channels ---------------------------
 * One iteration covers SP_TI steps, split into W sub-chunks of LS steps. A thread owns (sub-chunk,
 * channel, SP_S states) and keeps its steps' decays exp(delta·A) in registers:
 *   A. run the sub-chunk from h = 0 → local state, and its total decay exp(A·Σ delta);
 *   fold the sub-chunks in order from the carried state → each one's true initial state and the
 *   next iteration's carry (every thread folds all W, so the carry stays in registers);
 *   B. re-run the steps from the true state with the stored decays, y = h·C summed over the
 *      channel's lanes by shuffles.
 * One exp per (step, channel, state) where the chunked path spends two, and no launch or global
 * round trip between chunks. It has ⌈D/16⌉ × seqs blocks: used when that fills the GPU. delta, D·x
 * and silu(z) are computed once per (step, channel) while staging. */
#define SP_THREADS 256
#define SP_CH 16   /* channels per block: 32 bytes of every bf16 row, whole sectors */
#define SP_S 4     /* states per thread */
#define SP_TI 64   /* steps per iteration */

template <int NP, typename T>
__global__ void __launch_bounds__(SP_THREADS, 2) scan_single_pass(ljc_seqs seqs, scan_args a) {
    constexpr int G = NP / SP_S;                    /* lanes per channel: c·G .. c·G+G-1 of a warp */
    constexpr int W = SP_THREADS / (SP_CH * G);     /* sub-chunks per iteration */
    constexpr int LS = SP_TI / W;                   /* steps per sub-chunk */
    constexpr int LX = SP_TI * SP_CH / SP_THREADS;  /* x/dt/z elements a thread stages */
    constexpr int LB = SP_TI * NP / SP_THREADS;     /* B/C elements a thread stages */
    static_assert(G >= 1 && G <= 32 && W >= 1 && LS * W == SP_TI && LX >= 1 && LB >= 1, "scan_single_pass shape");
    __shared__ float dv_s[SP_TI][SP_CH], dx_s[SP_TI][SP_CH];   /* delta, delta·x */
    __shared__ float xy_s[SP_TI][SP_CH];                       /* D·x, then y in place */
    __shared__ float sz_s[SP_TI][SP_CH];                       /* silu(z) */
    __shared__ __align__(16) float b_s[SP_TI][NP], c_s[SP_TI][NP];
    __shared__ __align__(16) float hl_s[W][SP_CH][NP], p_s[W][SP_CH][NP];   /* sub-chunk local state, decay */
    const int sq = blockIdx.y, len = seqs.ntok[sq];
    const size_t row0 = seqs.start[sq], c0 = (size_t)blockIdx.x * SP_CH;
    float *state = (float *)seqs.p0[sq];
    /* staging role: element i = tid + k·SP_THREADS of [SP_TI][SP_CH] is channel tid % SP_CH for every k */
    const int lc = threadIdx.x % SP_CH;
    const bool lact = c0 + lc < a.D;
    const float bias = lact ? a.dt_bias[c0 + lc] : 0.0f, dsk = lact ? a.d_skip[c0 + lc] : 0.0f;
    const T *x = (const T *)a.x, *dt = (const T *)a.dt, *z = (const T *)a.z, *bg = (const T *)a.b, *cg = (const T *)a.c;
    /* compute role */
    const int w = threadIdx.x / (SP_CH * G), c = threadIdx.x / G % SP_CH, g = threadIdx.x % G;
    const size_t d = c0 + c;
    const bool act = d < a.D;
    float A2[SP_S], carry[SP_S];   /* A in log2 units; the state entering the iteration */
#pragma unroll
    for (int s = 0; s < SP_S; s++) {
        int n = g * SP_S + s;
        bool ok = act && n < (int)a.N;
        A2[s] = ok ? -__expf(a.a_log[d * a.N + n]) * 1.4426950408889634f : 0.0f;   /* 0: a padding state stays 0 */
        carry[s] = ok ? state[d * a.N + n] : 0.0f;
    }
    T xr[LX], dr[LX], zr[LX], br[LB], cr[LB];   /* the next iteration's inputs, loaded during this one */
    const T zero = T(0.0f);
    auto fetch = [&](int t0) {
#pragma unroll
        for (int k = 0; k < LX; k++) {
            int r = (threadIdx.x + k * SP_THREADS) / SP_CH;
            bool ok = lact && t0 + r < len;
            size_t row = row0 + t0 + r, ch = c0 + lc;
            xr[k] = ok ? x[row * a.ldx + ch] : zero;
            dr[k] = ok ? dt[row * a.lddt + ch] : zero;
            zr[k] = ok ? z[row * a.ldz + ch] : zero;
        }
#pragma unroll
        for (int k = 0; k < LB; k++) {
            int i = threadIdx.x + k * SP_THREADS, r = i / NP, n = i % NP;
            bool ok = t0 + r < len && n < (int)a.N;
            size_t row = row0 + t0 + r;
            br[k] = ok ? bg[row * a.ldb + n] : zero;
            cr[k] = ok ? cg[row * a.ldc + n] : zero;
        }
    };
    auto stage = [&](int t0) {
#pragma unroll
        for (int k = 0; k < LX; k++) {
            int r = (threadIdx.x + k * SP_THREADS) / SP_CH;
            bool ok = lact && t0 + r < len;   /* padding steps: delta = 0, so decay 1 and no input */
            float xv = ljc_ld(&xr[k]), dv = ok ? ljc_softplus(ljc_ld(&dr[k]) + bias) : 0.0f;
            dv_s[r][lc] = dv;
            dx_s[r][lc] = dv * xv;
            xy_s[r][lc] = dsk * xv;
            sz_s[r][lc] = ljc_silu(ljc_ld(&zr[k]));
        }
#pragma unroll
        for (int k = 0; k < LB; k++) {
            int i = threadIdx.x + k * SP_THREADS;
            b_s[i / NP][i % NP] = ljc_ld(&br[k]);
            c_s[i / NP][i % NP] = ljc_ld(&cr[k]);
        }
    };
    auto store_y = [&](int t0) {
#pragma unroll
        for (int k = 0; k < LX; k++) {
            int r = (threadIdx.x + k * SP_THREADS) / SP_CH;
            if (lact && t0 + r < len) ljc_st((T *)a.y + (row0 + t0 + r) * a.ldy + c0 + lc, xy_s[r][lc]);
        }
    };
    const int nit = (len + SP_TI - 1) / SP_TI;
    fetch(0);
    for (int it = 0; it < nit; it++) {
        const int t0 = it * SP_TI;
        __syncthreads();                 /* the previous iteration is done with the staging arrays */
        if (it > 0) store_y(t0 - SP_TI);   /* same elements this thread restages next: no hazard */
        stage(t0);
        __syncthreads();
        if (it + 1 < nit) fetch(t0 + SP_TI);
        /* A: the sub-chunk from zero */
        float dA[LS][SP_S], hl[SP_S], sdv = 0.0f;
#pragma unroll
        for (int s = 0; s < SP_S; s++) hl[s] = 0.0f;
#pragma unroll
        for (int t = 0; t < LS; t++) {
            const int r = w * LS + t;
            const float dvv = dv_s[r][c], dxv = dx_s[r][c];
            const float4 bb = *(const float4 *)&b_s[r][g * SP_S];
            const float bv[4] = {bb.x, bb.y, bb.z, bb.w};
            sdv += dvv;
#pragma unroll
            for (int s = 0; s < SP_S; s++) {
                dA[t][s] = scan_ex2(dvv * A2[s]);
                hl[s] = fmaf(dA[t][s], hl[s], dxv * bv[s]);
            }
        }
        *(float4 *)&hl_s[w][c][g * SP_S] = make_float4(hl[0], hl[1], hl[2], hl[3]);
        *(float4 *)&p_s[w][c][g * SP_S] = make_float4(scan_ex2(A2[0] * sdv), scan_ex2(A2[1] * sdv), scan_ex2(A2[2] * sdv),
                                                     scan_ex2(A2[3] * sdv));
        __syncthreads();
        /* fold the sub-chunks in order: the state entering sub-chunk w, and the next carry */
        float h[SP_S];
#pragma unroll
        for (int w2 = 0; w2 < W; w2++) {
            const float4 P = *(const float4 *)&p_s[w2][c][g * SP_S], L = *(const float4 *)&hl_s[w2][c][g * SP_S];
            const float pv[4] = {P.x, P.y, P.z, P.w}, lv[4] = {L.x, L.y, L.z, L.w};
#pragma unroll
            for (int s = 0; s < SP_S; s++) {
                if (w2 == w) h[s] = carry[s];
                carry[s] = fmaf(pv[s], carry[s], lv[s]);
            }
        }
        /* B: the sub-chunk from its true state, y = (h·C + D·x)·silu(z) */
#pragma unroll
        for (int t = 0; t < LS; t++) {
            const int r = w * LS + t;
            const float dxv = dx_s[r][c];
            const float4 bb = *(const float4 *)&b_s[r][g * SP_S], cc = *(const float4 *)&c_s[r][g * SP_S];
            const float bv[4] = {bb.x, bb.y, bb.z, bb.w}, cv[4] = {cc.x, cc.y, cc.z, cc.w};
            float part = 0.0f;
#pragma unroll
            for (int s = 0; s < SP_S; s++) {
                h[s] = fmaf(dA[t][s], h[s], dxv * bv[s]);
                part = fmaf(h[s], cv[s], part);
            }
#pragma unroll
            for (int o = 1; o < G; o <<= 1) part += __shfl_xor_sync(0xffffffffu, part, o);
            if (t % G == g) xy_s[r][c] = (part + xy_s[r][c]) * sz_s[r][c];   /* the channel's lanes take turns */
        }
    }
    __syncthreads();
    if (nit > 0) store_y((nit - 1) * SP_TI);
    if (w == 0 && act) {
#pragma unroll
        for (int s = 0; s < SP_S; s++) {
            int n = g * SP_S + s;
            if (n < (int)a.N) state[d * a.N + n] = carry[s];
        }
    }
}

template <int NP, typename T>
static int scan_launch(lj_backend *b, const lj_scan_params *p, const ljc_seqs *t) {
    const int L = scan_chunk_len<NP>::L;
    cudaStream_t st = ljc_of(b)->stream;
    scan_args a;
    a.x = p->x; a.dt = p->dt; a.b = p->b; a.c = p->c;
    a.z = p->z; a.y = p->y;
    a.ldx = p->ldx; a.lddt = p->lddt; a.ldb = p->ldb; a.ldc = p->ldc; a.ldz = p->ldz; a.ldy = p->ldy;
    a.dt_bias = p->dt_bias; a.a_log = p->a_log; a.d_skip = p->d_skip;
    a.D = p->d; a.N = p->n;
    int nch = (t->max_tok + L - 1) / L;
    a.nch_max = nch;
    a.S = NULL; a.sumdt = NULL;
    ljc_impl *im = ljc_of(b);
    if constexpr (NP <= 16) {
        size_t blocks = ljc_blocks(p->d, SP_CH) * t->n;
        if (im->scan_mode == LJC_SCAN_SINGLE ||
            (im->scan_mode == LJC_SCAN_AUTO && nch > 1 && blocks >= 2 * (size_t)im->num_sms)) {
            scan_single_pass<NP, T><<<dim3((unsigned)ljc_blocks(p->d, SP_CH), (unsigned)t->n), SP_THREADS, 0, st>>>(*t, a);
            LJC_LAUNCHED(b, "scan single_pass");
            return 0;
        }
    }
    dim3 grid(ljc_blocks(p->d, SCAN_THREADS), (unsigned)nch, (unsigned)t->n);
    if (nch == 1) {
        scan_chunk_output<NP, T><<<grid, SCAN_THREADS, 0, st>>>(*t, a, 1);
        LJC_LAUNCHED(b, "scan");
        return 0;
    }
    size_t per = (size_t)t->n * nch * p->d;
    void *ws;
    if (ljc_scratch(b, per * (p->n + 1) * sizeof(float), &ws)) return -1;
    a.S = (float *)ws;
    a.sumdt = a.S + per * p->n;
    scan_chunk_state<NP, T><<<grid, SCAN_THREADS, 0, st>>>(*t, a);
    LJC_LAUNCHED(b, "scan chunk_state");
    dim3 g2(ljc_blocks(p->d * p->n, 256), (unsigned)t->n);
    scan_chunk_carry<<<g2, 256, 0, st>>>(*t, a, L);
    LJC_LAUNCHED(b, "scan chunk_carry");
    scan_chunk_output<NP, T><<<grid, SCAN_THREADS, 0, st>>>(*t, a, 0);
    LJC_LAUNCHED(b, "scan chunk_output");
    return 0;
}

template <typename T>
static int scan_dispatch(lj_backend *b, const lj_scan_params *p, const ljc_seqs *t) {
    if (p->n <= 8) return scan_launch<8, T>(b, p, t);
    if (p->n <= 16) return scan_launch<16, T>(b, p, t);
    if (p->n <= 32) return scan_launch<32, T>(b, p, t);
    return scan_launch<64, T>(b, p, t);
}

int ljc_scan(lj_backend *b, const lj_scan_params *p) {
    if (p->n < 1 || p->n > 64) return ljc_set_err(b, "cuda scan: d_state %zu not in 1..64", p->n);
    for (size_t first = 0; first < p->batch.n_seqs; first += LJC_MAX_SEQS) {
        size_t cnt = p->batch.n_seqs - first < LJC_MAX_SEQS ? p->batch.n_seqs - first : LJC_MAX_SEQS;
        ljc_seqs t;
        ljc_seqs_fill(&t, &p->batch, first, cnt, (void *const *)p->state, NULL);
        if (!t.max_tok) continue;
        int rc = ljc_f32(b) ? scan_dispatch<float>(b, p, &t) : scan_dispatch<bf16>(b, p, &t);
        if (rc) return rc;
    }
    return 0;
}
